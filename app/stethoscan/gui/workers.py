"""The worker layer: long work runs in thread pools, results come back as queued Qt signals.

Two pools: ``io`` (decoding, loading, analysis; 2 threads) and ``inference`` (1 thread, so a GPU
is never shared). Work is a plain function ``fn(*args, task=task, **kwargs)`` from a GUI-free
package (see ``core.task``). Widgets only start jobs, cancel them and receive their signals; every
signal of a :class:`Job` is delivered on the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal

from PySide6.QtCore import QObject, Qt, Signal, Slot

from stethoscan.core.errors import Cancelled

_log = logging.getLogger(__name__)
Pool = Literal["io", "inference"]


class Job(QObject):
    """One piece of long work. Signals arrive on the GUI thread."""

    progress = Signal(float, str)  # fraction in [0, 1], message
    partial = Signal(object)
    finished = Signal(object)  # the function's return value
    failed = Signal(object)  # the exception (StethoscanError: show str(exc) to the user)
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled

    # Internal: emitted from the worker thread, connected with QueuedConnection.
    _progress_from_worker = Signal(float, str)
    _partial_from_worker = Signal(object)
    _end_from_worker = Signal(str, object)

    def __init__(self, title: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.fraction = 0.0
        self.message = ""
        self.result: Any = None
        self.error: BaseException | None = None
        self.state: Literal["running", "finished", "failed", "cancelled"] = "running"
        self._cancel = threading.Event()
        self.future: Future | None = None
        queued = Qt.ConnectionType.QueuedConnection
        self._progress_from_worker.connect(self._deliver_progress, queued)
        self._partial_from_worker.connect(self._deliver_partial, queued)
        self._end_from_worker.connect(self._deliver_end, queued)

    # -- the Task protocol, called from the worker thread --------------------------------
    def progress_from_worker(self, fraction: float, message: str = "") -> None:
        self._progress_from_worker.emit(min(max(float(fraction), 0.0), 1.0), message)

    def partial_from_worker(self, result: Any) -> None:
        self._partial_from_worker.emit(result)

    # -- used by widgets -------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the work to stop; ``cancelled`` follows when it has."""
        self._cancel.set()
        if self.future is not None and self.future.cancel():
            self._deliver_end("cancelled", None)

    def is_cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def is_running(self) -> bool:
        return self.state == "running"

    # -- delivery on the GUI thread ----------------------------------------------------------
    @Slot(float, str)
    def _deliver_progress(self, fraction: float, message: str) -> None:
        if self.state != "running":
            return
        self.fraction, self.message = fraction, message or self.message
        self.progress.emit(fraction, self.message)

    @Slot(object)
    def _deliver_partial(self, result: Any) -> None:
        if self.state == "running":
            self.partial.emit(result)

    @Slot(str, object)
    def _deliver_end(self, outcome: str, payload: Any) -> None:
        if self.state != "running":
            return
        if outcome == "finished":
            self.state, self.result, self.fraction = "finished", payload, 1.0
            self.finished.emit(payload)
        elif outcome == "failed":
            self.state, self.error = "failed", payload
            self.failed.emit(payload)
        else:
            self.state = "cancelled"
            self.cancelled.emit()
        self.ended.emit()


class _JobTask:
    """The :class:`core.task.Task` a worker function sees."""

    def __init__(self, job: Job) -> None:
        self._job = job

    def progress(self, fraction: float, message: str = "") -> None:
        self._job.progress_from_worker(fraction, message)

    def partial(self, result: Any) -> None:
        self._job.partial_from_worker(result)

    def is_cancelled(self) -> bool:
        return self._job.is_cancel_requested()

    def check_cancelled(self) -> None:
        if self._job.is_cancel_requested():
            raise Cancelled()


class Workers(QObject):
    """Owns the thread pools; ``job_started`` lets the status bar show every job's progress."""

    job_started = Signal(object)  # Job

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pools = {
            "io": ThreadPoolExecutor(max_workers=2, thread_name_prefix="stethoscan-io"),
            "inference": ThreadPoolExecutor(max_workers=1, thread_name_prefix="stethoscan-inference"),
        }
        self._jobs: set[Job] = set()
        self._closed = False

    def submit(
        self, title: str, fn: Callable[..., Any], *args: Any, pool: Pool = "io", **kwargs: Any
    ) -> Job:
        """Run ``fn(*args, task=..., **kwargs)`` in ``pool``; return its :class:`Job`."""
        if self._closed:
            raise RuntimeError("workers are shut down")
        job = Job(title)  # owned by Python: lives while the widget or the worker holds it
        task = _JobTask(job)
        self._jobs.add(job)
        job.ended.connect(lambda: self._forget(job))

        def call() -> None:
            try:
                result = fn(*args, task=task, **kwargs)
            except Cancelled:
                job._end_from_worker.emit("cancelled", None)
            except Exception as exc:  # delivered to the widget, which shows the message
                if not isinstance(exc, _expected_errors()):
                    _log.error("Job %r failed:\n%s", title, traceback.format_exc())
                job._end_from_worker.emit("failed", exc)
            else:
                if job.is_cancel_requested():
                    job._end_from_worker.emit("cancelled", None)
                else:
                    job._end_from_worker.emit("finished", result)

        job.future = self._pools[pool].submit(call)
        self.job_started.emit(job)
        return job

    def _forget(self, job: Job) -> None:
        self._jobs.discard(job)

    @property
    def running_jobs(self) -> list[Job]:
        return [j for j in self._jobs if j.is_running]

    def cancel_all(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def shutdown(self, wait: bool = True) -> None:
        """Cancel everything and stop the threads (on quit, and in every test)."""
        self._closed = True
        self.cancel_all()
        for pool in self._pools.values():
            pool.shutdown(wait=wait, cancel_futures=True)


def _expected_errors() -> tuple[type[BaseException], ...]:
    from stethoscan.core.errors import StethoscanError

    return (StethoscanError,)
