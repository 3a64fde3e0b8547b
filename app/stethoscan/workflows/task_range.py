"""A view of a task that maps a step's progress 0..1 onto a range of the whole job's bar."""

from __future__ import annotations

from typing import Any

from stethoscan.core.task import Task


class TaskRange:
    """Forwards to ``task`` with progress mapped to [start, stop]; cancel is shared."""

    def __init__(self, task: Task, start: float, stop: float) -> None:
        self._task = task
        self._start = start
        self._span = stop - start

    def progress(self, fraction: float, message: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        self._task.progress(self._start + self._span * fraction, message)

    def partial(self, result: Any) -> None:
        self._task.partial(result)

    def is_cancelled(self) -> bool:
        return self._task.is_cancelled()

    def check_cancelled(self) -> None:
        self._task.check_cancelled()
