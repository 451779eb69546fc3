"""What the staff area's tasks run in the worker (the tasks import it; nothing here queues
work of its own except through the tasks that finish)."""
