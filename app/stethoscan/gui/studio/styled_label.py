"""A QLabel with its object name (for the style sheet and tests) and inline style in one call."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def styled_label(name: str, style: str = "", wrap: bool = False, text: str = "") -> QLabel:
    """A label named ``name`` (``objectName``) with style sheet ``style``; ``wrap`` wraps words."""
    label = QLabel(text)
    label.setObjectName(name)
    if style:
        label.setStyleSheet(style)
    label.setWordWrap(wrap)
    return label
