"""The mouse grammar of a slice view.

- wheel: next/previous slice; Ctrl+wheel: zoom about the pointer
- left drag: pan (or draw with the active measuring tool); left click: move the cross-hair
- right or middle drag: window/level (horizontal = width, vertical = level)
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal


class SliceViewBox(pg.ViewBox):
    scroll_requested = Signal(int)  # +1 / -1 slices
    window_drag = Signal(float, float)  # dx, dy in screen pixels since the last event
    clicked = Signal(QPointF)  # view coordinates (mm) of a left click

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.setBackgroundColor("#000000")
        # A measuring tool takes left drags: tool_drag(event) -> True when it handled the event.
        self.tool_drag: Callable[[object], bool] | None = None

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        delta = ev.delta() if hasattr(ev, "delta") else ev.angleDelta().y()
        if delta:
            self.scroll_requested.emit(-1 if delta > 0 else 1)
        ev.accept()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        button = ev.button()
        if button in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            ev.accept()
            if not ev.isStart():
                delta = ev.screenPos() - ev.lastScreenPos()
                self.window_drag.emit(float(delta.x()), float(delta.y()))
            return
        if button == Qt.MouseButton.LeftButton and self.tool_drag is not None:
            if self.tool_drag(ev):
                ev.accept()
                return
        super().mouseDragEvent(ev, axis)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.clicked.emit(self.mapSceneToView(ev.scenePos()))
            return
        ev.accept()  # no context menu: the right button sets window/level
