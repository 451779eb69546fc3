"""The request id travels with the tasks a request queues, through Celery's message headers.

When a task is published while a request (or a task) is being served, its id goes into the
message's headers; the worker sets it again while the task runs, so the task's log lines carry
the id of the request that caused them, and so do the tasks it queues in turn.
"""

from celery import signals

from ops import logs

HEADER = "petition_request_id"


@signals.before_task_publish.connect
def _send_request_id(headers=None, **kwargs) -> None:
    current = logs.request_id.get()
    if current and headers is not None:
        headers[HEADER] = current


@signals.task_prerun.connect
def _receive_request_id(task_id=None, task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        # An eager task runs inside the request that called it, which set the id already.
        return
    received = getattr(request, HEADER, None) or (request.headers or {}).get(HEADER)
    logs.request_id.set(logs.accept_request_id(received) if received else "")
    logs.task.set((task.name, task_id))


@signals.task_postrun.connect
def _forget_request_id(task=None, **kwargs) -> None:
    request = getattr(task, "request", None)
    if request is not None and not getattr(request, "is_eager", False):
        logs.request_id.set("")
        logs.task.set(None)
