"""Checks run once after the window opens (see ``application.STARTUP_CHECKS``).

Recording recovery: if the audio part is installed (``stethoscan.workflows.recording_session``)
and it lists recordings interrupted by a crash or power cut, offer to recover them.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from PySide6.QtWidgets import QMessageBox

_log = logging.getLogger(__name__)
_LIST_FUNCTIONS = ("list_recoverable_recordings", "list_recoverable", "find_recoverable_recordings")
_RECOVER_FUNCTIONS = ("recover_recording", "recover")


def _recording_session_module() -> Any | None:
    name = "stethoscan.workflows.recording_session"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _first_attribute(module: Any, names: tuple[str, ...]) -> Any | None:
    for name in names:
        if hasattr(module, name):
            return getattr(module, name)
    return None


def offer_recording_recovery(window: Any) -> list[Any]:
    """Ask whether to recover interrupted recordings; return what was recovered."""
    module = _recording_session_module()
    if module is None:
        return []
    list_function = _first_attribute(module, _LIST_FUNCTIONS)
    if list_function is None:
        _log.warning("recording_session has no function to list recoverable recordings")
        return []
    store = window.context.store
    try:
        candidates = list(list_function(store))
    except TypeError:
        candidates = list(list_function())
    if not candidates:
        return []
    answer = QMessageBox.question(
        window, "Recover recordings",
        f"{len(candidates)} recording(s) were interrupted (the program or the computer stopped "
        "while recording). Recover what was captured?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return []
    recover = _first_attribute(module, _RECOVER_FUNCTIONS)
    if recover is None:
        return []
    recovered = []
    for candidate in candidates:
        recovered.append(recover(candidate, store))
    window.context.recordings_changed.emit()
    window.statusBar().showMessage(f"{len(recovered)} recording(s) recovered.", 10000)
    return recovered
