"""The Celery application: configured from Django settings prefixed CELERY_."""

import functools
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "petition.settings")


class Task(DjangoTask):
    """Base task: publishing after commit never breaks the request that committed.

    If the broker is unreachable when the transaction commits, the row is already saved; the
    error is logged (Django's robust on_commit) and the periodic sweeper re-enqueues the work,
    so a broker outage costs a delay, not a server error and not a lost signature.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self.delay, *args, **kwargs), robust=True)

    def apply_async_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self.apply_async, *args, **kwargs), robust=True)


app = Celery("petition", task_cls=Task)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["statements", "statements.staff", "statements.exports"])
