"""The global exception hook and its "Unexpected error" dialog.

Uncaught exceptions (GUI thread via ``sys.excepthook``, other threads via ``threading.excepthook``)
are logged (the log filter redacts patient identifiers) and shown in a dialog with the message, the
log-file location and a "Copy details" button. Exceptions from other threads hop to the GUI thread
through a queued signal.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.log_setup import redact

_log = logging.getLogger("stethoscan.uncaught")


class UnexpectedErrorDialog(QDialog):
    """Tells the user what failed, where the log is, and lets them copy the details."""

    def __init__(self, message: str, details: str, log_file: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("unexpectedErrorDialog")
        self.setWindowTitle("Unexpected error")
        self.details = details
        layout = QVBoxLayout(self)
        header = QLabel(
            "<b>Stethoscan ran into an unexpected error.</b><br>"
            "Your saved records are not affected. If it happens again, send the details "
            "below (they contain no patient identifiers) to your support contact."
        )
        header.setWordWrap(True)
        layout.addWidget(header)
        self.message_label = QLabel(message)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message_label)
        where = str(log_file) if log_file else "(logging is not configured)"
        self.log_label = QLabel(f"Log file: {where}")
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.log_label)
        text = QPlainTextEdit(details)
        text.setReadOnly(True)
        text.setMinimumHeight(140)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        if log_file is not None:
            open_logs = QPushButton("Open log folder")
            open_logs.clicked.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file.parent)))
            )
            buttons.addButton(open_logs, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical)
        self.setWindowIcon(icon)
        self.resize(640, 380)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.message_label.text()}\n\n{self.details}")


class ExceptionHook(QObject):
    """Installs itself as ``sys.excepthook`` and ``threading.excepthook``."""

    _from_thread = Signal(str, str)
    dialog_shown = Signal(object)  # the UnexpectedErrorDialog (for tests)

    def __init__(self, log_file: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.dialog: UnexpectedErrorDialog | None = None
        self._previous = (sys.excepthook, threading.excepthook)
        self._from_thread.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.handle
        threading.excepthook = self._handle_thread

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        details = redact("".join(traceback.format_exception(exc_type, exc, tb)))
        message = redact(f"{exc_type.__name__}: {exc}")
        _log.error("Uncaught exception\n%s", details)
        if threading.current_thread() is threading.main_thread():
            self._show(message, details)
        else:
            self._from_thread.emit(message, details)

    def _handle_thread(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    @Slot(str, str)
    def _show(self, message: str, details: str) -> None:
        if QApplication.instance() is None:
            return
        if self.dialog is not None and self.dialog.isVisible():
            return  # one dialog at a time: a burst of errors must not bury the window
        parent = QApplication.activeWindow()
        self.dialog = UnexpectedErrorDialog(message, details, self.log_file, parent)
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog_shown.emit(self.dialog)
