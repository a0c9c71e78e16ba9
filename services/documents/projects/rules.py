"""Project rules: legal status moves, hours as whole hundredths, and the order tasks are
listed in."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TypeVar

from porchlight.contracts.projects import FINAL, MAX_HOURS_A_DAY, OPEN_TASKS, STATUSES

__all__ = ["FINAL", "HUNDREDTHS_A_DAY", "STATUSES", "TRANSITIONS", "can_move", "hours_text",
           "hundredths", "listed_order"]

# A project goes forward or pauses; it is not planned again once started. Completed and
# cancelled are final, so what was done (hours, tasks) stays as it was when it ended; more
# work is a new project.
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"active", "on_hold", "cancelled"}),
    "active": frozenset({"on_hold", "completed", "cancelled"}),
    "on_hold": frozenset({"active", "completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
}
HUNDREDTHS_A_DAY = int(MAX_HOURS_A_DAY * 100)


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def final_message(status: str) -> str:
    return (f"This project is {status}, which is final: its details, hours and tasks can no "
            "longer change.")


def hundredths(hours: Decimal) -> int:
    """The contract allows at most two places, so this is exact."""
    return int(hours * 100)


def hours_text(amount: int) -> str:
    """Whole hundredths as hours with two places: 750 → "7.50"."""
    return f"{amount // 100}.{amount % 100:02d}"


Task = TypeVar("Task")


def listed_order(tasks: Iterable[Task], order: list[str]) -> list[Task]:
    """The project's tasks as staff read them: open and in progress first, then done and
    cancelled; within each, the project's order. Only tasks named in the order are the
    project's (a task is added by the same update that names it there)."""
    place = {task_id: i for i, task_id in enumerate(order)}
    mine = [task for task in tasks if str(task.id) in place]  # type: ignore[attr-defined]
    return sorted(mine, key=lambda task: (task.status not in OPEN_TASKS,  # type: ignore[attr-defined]
                                          place[str(task.id)]))  # type: ignore[attr-defined]
