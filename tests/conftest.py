import pytest
from django.core.cache import cache

from petition.celery import app as celery_app
from statements import counters
from statements.content import load_all
from statements.models import Statement


@pytest.fixture(autouse=True)
def _isolated_state(settings):
    """Unit tests run tasks eagerly (the real-worker tests switch this off) and start with an
    empty cache, so counts and rate limits never leak between tests."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    settings.HTTPS = False
    settings.SECURE_SSL_REDIRECT = False
    cache.clear()
    counters._memo.clear()
    yield
    cache.clear()
    counters._memo.clear()


@pytest.fixture
def statement(db) -> Statement:
    load_all()
    return Statement.objects.get(slug="kazakhstan-2022")
