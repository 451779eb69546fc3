"""Progress toward a statement's target, and the next target once it is reached.

Organisers set one target; a campaign that passes it keeps going, so the page then shows the
next round number (1, 2 or 5 × 10ⁿ) above the count, and says which targets were reached.
"""

from dataclasses import dataclass


def next_round_number(above: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ strictly above `above`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor > above:
                return step * factor
        step *= 10


@dataclass(frozen=True)
class Progress:
    total: int
    goal: int  # the target shown now: the organisers' one, or the next one after it
    reached: int | None  # the organisers' target, once passed

    @property
    def percent(self) -> int:
        return min(100, self.total * 100 // self.goal)


def progress(counts: dict[str, int], goal: int | None) -> Progress | None:
    """None without a target; the count is individuals and organisations together."""
    if not goal:
        return None
    total = counts["individual"] + counts["organisation"]
    if total < goal:
        return Progress(total=total, goal=goal, reached=None)
    return Progress(total=total, goal=next_round_number(total), reached=goal)
