"""Signals of the statements app.

`public_set_changed` is sent after commit whenever the set of signatures the public sees for a
statement changed (a confirmation, a moderation decision, a withdrawal, an invalidation and
its undoing): the moments the public counts change. The public lists listen to it
(statements/public_lists.py), so the counters need not know about them.
"""

from django.dispatch import Signal

# Keyword argument: statement_id.
public_set_changed = Signal()
