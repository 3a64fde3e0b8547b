"""The task protocol: how long work reports progress and checks for cancellation.

Long work is a plain function ``run(..., task)``. The function calls ``task.progress(...)`` and
``task.check_cancelled()`` often (at least every ~100 ms of work). The GUI passes a task that
forwards progress to a queued Qt signal; tests and commands pass :class:`SilentTask` or
:class:`ConsoleTask`.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Protocol

from stethoscan.core.errors import Cancelled


class Task(Protocol):
    """What long work may call while it runs."""

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1] with a short human message."""

    def partial(self, result: Any) -> None:
        """Hand over a partial result (e.g. the first decoded slice) before the end."""

    def is_cancelled(self) -> bool:
        """Whether the user asked to stop."""

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the user asked to stop."""


class SilentTask:
    """A task that records progress and can be cancelled from another thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.fraction = 0.0
        self.message = ""
        self.partials: list[Any] = []

    def progress(self, fraction: float, message: str = "") -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        if message:
            self.message = message

    def partial(self, result: Any) -> None:
        self.partials.append(result)

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class ConsoleTask(SilentTask):
    """A task that draws a progress bar on stderr (for the headless commands)."""

    def __init__(self, label: str = "", stream: Any = None, min_interval_s: float = 0.2) -> None:
        super().__init__()
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self._min_interval_s = min_interval_s

    def progress(self, fraction: float, message: str = "") -> None:
        super().progress(fraction, message)
        now = time.monotonic()
        if now - self._last < self._min_interval_s and self.fraction < 1.0:
            return
        self._last = now
        if not self._stream.isatty():
            return
        width = 30
        filled = int(round(self.fraction * width))
        bar = "#" * filled + "-" * (width - filled)
        text = f"\r{self._label} [{bar}] {self.fraction * 100:5.1f}% {self.message[:40]:<40}"
        self._stream.write(text)
        if self.fraction >= 1.0:
            self._stream.write("\n")
        self._stream.flush()
