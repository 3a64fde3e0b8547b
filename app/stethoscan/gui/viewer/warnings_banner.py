"""A slim banner above the images: series warnings (gantry tilt, uneven spacing, gaps) or errors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStyle, QToolButton, QWidget


class WarningsBanner(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 5, 6, 5)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide")
        close.clicked.connect(self.hide)
        layout.addWidget(self.icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(close)
        self.messages: list[str] = []
        self.hide()

    def show_warnings(self, messages: list[str]) -> None:
        self._show(messages, QStyle.StandardPixmap.SP_MessageBoxWarning, "warning")

    def show_error(self, message: str) -> None:
        self._show([message], QStyle.StandardPixmap.SP_MessageBoxCritical, "error")

    def _show(self, messages: list[str], pixmap, kind: str) -> None:
        self.messages = list(messages)
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        self.text.setText("  •  ".join(self.messages))
        self.show()

    def clear(self) -> None:
        self.messages = []
        self.hide()
