"""Checks run once after the window opens (see ``application.STARTUP_CHECKS``).

Recording recovery: when the audio part is installed (``stethoscan.workflows.recording_session``)
and takes were cut off by a crash or power cut, offer to recover them into their sessions.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from PySide6.QtWidgets import QMessageBox

_log = logging.getLogger(__name__)
_MODULE = "stethoscan.workflows.recording_session"


def _recording_session_module() -> Any | None:
    try:
        return importlib.import_module(_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == _MODULE:
            return None
        raise


def offer_recording_recovery(window: Any) -> Any | None:
    """Ask whether to recover interrupted takes; return the recovery Job, or None."""
    module = _recording_session_module()
    if module is None:
        return None
    candidates = module.list_recoverable()
    if not candidates:
        return None
    answer = QMessageBox.question(
        window, "Recover recordings",
        f"{len(candidates)} recording(s) were cut off (the program or the computer stopped while "
        "recording). Recover what was captured into their patient sessions?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    context = window.context
    job = context.workers.submit("Recovering recordings", module.recover_all_into_store, context.store)
    job.finished.connect(lambda outcomes: _report_recovery(window, outcomes))
    job.failed.connect(lambda exc: QMessageBox.warning(window, "Recover recordings", str(exc)))
    return job


def _report_recovery(window: Any, outcomes: list[Any]) -> None:
    problems = [o for o in outcomes if isinstance(o, str)]
    recovered = len(outcomes) - len(problems)
    window.context.recordings_changed.emit()
    window.statusBar().showMessage(f"{recovered} recording(s) recovered.", 10000)
    if problems:
        QMessageBox.warning(window, "Recover recordings",
                            f"{recovered} recording(s) recovered. These could not be:\n\n" + "\n".join(problems))
