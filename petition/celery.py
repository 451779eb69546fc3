"""The Celery application: configured from Django settings prefixed CELERY_."""

import functools
import os

from celery import Celery, signals
from celery.contrib.django.task import DjangoTask
from django.db import close_old_connections, transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petition.settings")


class Task(DjangoTask):
    """Base task: publishing after commit never breaks the request that committed.

    If the broker is unreachable when the transaction commits, the row is already saved and
    the error is logged (Django's robust on_commit). Emails and export builds do not go this
    way at all: they are handed over by the outbox relay (statements/outbox/relay.py), which
    tries again until the broker answers.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self.apply_async, *args, **kwargs), robust=True)


@signals.task_postrun.connect
def _return_database_connections(task=None, **kwargs) -> None:
    """After a task, hand the database connection back as Django does after a request: to the
    pool, or closed if it broke or outlived CONN_MAX_AGE (settings.CELERY_DB_REUSE_MAX keeps
    Celery from closing the whole pool instead). Eager tasks run inside the caller's
    request or test, whose connection is not theirs to hand back."""
    if task is not None and not getattr(task.request, "is_eager", False):
        close_old_connections()


app = Celery("petition", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["statements", "statements.staff", "statements.outbox", "exports"])

# The request id travels with the tasks a request queues (LOG_FORMAT=json logs show it).
import ops.propagation  # noqa: E402, F401
