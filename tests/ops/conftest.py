import pytest

from ops import figures


@pytest.fixture(autouse=True)
def _fresh_figures():
    """Each test reads the figures as they are now, not as an earlier test left them."""
    figures.forget()
    yield
    figures.forget()
