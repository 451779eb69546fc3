"""Signals of the statements app, and the receivers that keep what is derived in step.

`public_set_changed` is sent after commit whenever the set of signatures the public sees for a
statement changed (a confirmation, a moderation decision, a withdrawal, an invalidation and
its undoing): the moments the public counts change. The public lists listen to it
(statements/public_lists.py), so the counters need not know about them.

A statement's row changes whenever its words do.

The pages keep a statement's rendered text per version of the statement row (`updated_at`,
in selectors.statement_text_cached and the page's fragment cache). Its texts and demands are
rows of their own, edited on their own admin pages (a demand's translations on the demand's
page) or by `load_statement`: each such change marks the statement as updated, so a text or
a demand an organiser adds or corrects reaches the pages once the processes' remembered reads
expire (PAGE_CACHE_SECONDS), not when the fragment cache would let it go.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from django.utils import timezone

from statements.models import Demand, DemandTranslation, Statement, StatementTranslation

# Keyword argument: statement_id.
public_set_changed = Signal()


def _touch(statement_id: int | None) -> None:
    if statement_id:
        Statement.objects.filter(pk=statement_id).update(updated_at=timezone.now())


@receiver([post_save, post_delete], sender=StatementTranslation)
@receiver([post_save, post_delete], sender=Demand)
def _text_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:  # fixtures load rows as they are
        _touch(instance.statement_id)


@receiver([post_save, post_delete], sender=DemandTranslation)
def _demand_text_changed(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        statement_id = (
            Demand.objects.filter(pk=instance.demand_id)
            .values_list("statement_id", flat=True)
            .first()
        )
        _touch(statement_id)
