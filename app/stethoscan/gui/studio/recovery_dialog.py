"""At start-up: offer to recover takes that a crash, kill or power cut left unsaved.

For each unsaved take (``workflows.recording_session.list_recoverable``) a dialog says
"An unsaved recording from <time> (<duration> s) was found." with *Recover* (finish the file and
add it to its session), *Discard* (delete it) and *Later* (ask again at the next start).
:func:`offer_recovery` is the start-up check (``application.STARTUP_CHECKS`` signature: it gets
the main window, whose ``context`` holds the patient database). The answers are carried out in
worker jobs (``context.workers``, progress in the status bar), never on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from stethoscan.audio.recording_recovery import RecoverableRecording, discard_recoverable
from stethoscan.audio.recording_tasks import get_task
from stethoscan.core.errors import ValidationError
from stethoscan.workflows.recording_session import (
    SavedTake,
    list_recoverable,
    recover_into_store,
)

_log = logging.getLogger(__name__)
RECOVER, DISCARD, LATER = "recover", "discard", "later"


def local_time_text(started_at: str) -> str:
    """An ISO 8601 UTC time as local time for people: "3 Mar 2025, 14:32"."""
    try:
        moment = datetime.fromisoformat(started_at)
    except ValueError:
        return "an unknown time"
    local = moment.astimezone()
    return f"{local.day} {local:%b %Y, %H:%M}"


def task_text(item: RecoverableRecording) -> str:
    """ "Sustained vowel /a/, take 2" (or "Free recording") from the take's tags."""
    key = str(item.tags.get("task", "free"))
    try:
        title = get_task(key).title
    except ValidationError:
        title = "Free recording"
    return f"{title}, take {item.tags.get('take', 1)}"


def headline(item: RecoverableRecording) -> str:
    return (f"An unsaved recording from {local_time_text(item.started_at)} "
            f"({item.duration_s:.1f}\u00a0s) was found.")  # no line break inside "12.3 s"


class RecoveryDialog(QDialog):
    """Recover / Discard / Later for one unsaved take; :attr:`choice` holds the answer."""

    def __init__(self, item: RecoverableRecording, position: int = 1, count: int = 1,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("recoveryDialog")
        suffix = f" ({position} of {count})" if count > 1 else ""
        self.setWindowTitle(f"Unsaved recording{suffix}")
        self.choice = LATER
        title = QLabel(headline(item))
        title.setObjectName("recoveryHeadline")
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 12pt; font-weight: 600;")
        details = QLabel(
            f"{task_text(item)} · {item.device or 'unknown microphone'} · {item.rate_hz} Hz\n\n"
            "It was being recorded when the program or the computer stopped. Recover adds it to "
            "its patient session (all but at most the last second is there). Discard deletes "
            "it. Later asks again at the next start.")
        details.setWordWrap(True)
        details.setStyleSheet("color: #aab3bd;")
        buttons = QDialogButtonBox()
        self.recover_button = self._add(buttons, "Recover", RECOVER,
                                        QDialogButtonBox.ButtonRole.AcceptRole)
        self.discard_button = self._add(buttons, "Discard", DISCARD,
                                        QDialogButtonBox.ButtonRole.DestructiveRole)
        self.later_button = self._add(buttons, "Later", LATER, QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(details)
        layout.addWidget(buttons, 0, Qt.AlignmentFlag.AlignRight)
        self.setMinimumWidth(440)

    def _add(self, box: QDialogButtonBox, text: str, choice: str,
             role: QDialogButtonBox.ButtonRole) -> QPushButton:
        button = box.addButton(text, role)
        button.clicked.connect(lambda: self._choose(choice))
        return button

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept() if choice != LATER else self.reject()


def ask_with_dialog(item: RecoverableRecording, parent: QWidget | None, position: int,
                    count: int) -> str:
    """Show the dialog (modal) and return "recover", "discard" or "later"."""
    dialog = RecoveryDialog(item, position, count, parent)
    dialog.exec()
    return dialog.choice


def _warn(parent: QWidget | None, text: str) -> None:
    QMessageBox.warning(parent if isinstance(parent, QWidget) else None, "Unsaved recordings", text)


@dataclass
class RecoveryOutcome:
    """What became of the unsaved takes; filled in as the worker jobs end (``done`` at the end)."""

    recovered: list[SavedTake] = field(default_factory=list)
    discarded: int = 0
    later: int = 0
    failures: list[str] = field(default_factory=list)
    jobs: list[Any] = field(default_factory=list)
    done: bool = False


def recover_take(store: Any, item: RecoverableRecording, session_id: int | None,
                 task: Any = None) -> SavedTake:
    """Worker function: finish the take's file and add it to ``session_id`` (None: its own)."""
    if task is not None:
        task.progress(0.0, f"recovering {item.duration_s:.1f} s")
        task.check_cancelled()
    saved = recover_into_store(store, item, session_id=session_id)
    if task is not None:
        task.progress(1.0, "recovered")
    return saved


def discard_take(item: RecoverableRecording, task: Any = None) -> None:
    """Worker function: delete an unsaved take."""
    discard_recoverable(item)


def offer_recovery(
    window: Any,
    ask: Callable[[RecoverableRecording, Any, int, int], str] = ask_with_dialog,
    warn: Callable[[Any, str], None] = _warn,
) -> RecoveryOutcome:
    """The start-up check: ask about each unsaved take; recover or delete it in a worker.

    Returns at once with the outcome, which fills in while the jobs run (their progress is in
    the status bar); at the end ``context.recordings_changed`` fires and failures are shown.
    """
    run = _RecoveryRun(window, warn)
    items = list_recoverable()
    for position, item in enumerate(items, start=1):
        run.start(item, ask(item, window, position, len(items)))
    run.asking = False
    run.finish_if_idle()
    return run.outcome


class _RecoveryRun:
    """The jobs started by one :func:`offer_recovery`; the job signals keep it alive."""

    def __init__(self, window: Any, warn: Callable[[Any, str], None]) -> None:
        self.window, self.context, self.warn = window, window.context, warn
        self.outcome = RecoveryOutcome()
        self.asking = True
        self.running = 0

    def start(self, item: RecoverableRecording, choice: str) -> None:
        workers = self.context.workers
        if choice == RECOVER:
            # ensure_session touches the GUI's state: decided here, before the worker starts.
            session = None if item.tags.get("session_id") is not None else self.context.ensure_session()
            job = workers.submit("Recovering an unsaved recording", recover_take,
                                 self.context.store, item, session)
            job.finished.connect(self.outcome.recovered.append)
        elif choice == DISCARD:
            job = workers.submit("Deleting an unsaved recording", discard_take, item)
            job.finished.connect(lambda _none: self._count_discarded())
        else:
            self.outcome.later += 1
            return
        job.failed.connect(lambda error: self._failed(item, error))
        job.cancelled.connect(self._cancelled)
        job.ended.connect(self._ended)
        self.outcome.jobs.append(job)
        self.running += 1

    def _count_discarded(self) -> None:
        self.outcome.discarded += 1

    def _failed(self, item: RecoverableRecording, error: BaseException) -> None:
        _log.warning("An unsaved recording could not be recovered: %s", type(error).__name__)
        self.outcome.failures.append(f"{task_text(item)} ({local_time_text(item.started_at)}): "
                                     f"{error}")

    def _cancelled(self) -> None:
        self.outcome.later += 1  # still on disk unless it had already finished: asked again

    def _ended(self) -> None:
        self.running -= 1
        self.finish_if_idle()

    def finish_if_idle(self) -> None:
        if self.asking or self.running or self.outcome.done:
            return
        outcome = self.outcome
        outcome.done = True
        if outcome.jobs:  # a cancelled job may have finished its take as well
            self.context.recordings_changed.emit()
        if outcome.recovered:
            self.context.status_message.emit(f"{len(outcome.recovered)} recording(s) recovered.")
        if outcome.failures:
            self.warn(self.window, "Some unsaved recordings could not be recovered:\n\n"
                      + "\n".join(outcome.failures))
