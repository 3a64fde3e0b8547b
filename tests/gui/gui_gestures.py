"""Real mouse gestures on a pyqtgraph view (press, moves, release as Qt events)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication


def _send(viewport, kind, pos: QPointF, button, buttons, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(kind, pos, global_pos, button, buttons, modifiers)
    QApplication.sendEvent(viewport, event)


def view_to_viewport(slice_view, x_mm: float, y_mm: float) -> QPointF:
    """Viewport pixel position of view point (x_mm, y_mm) of a SliceView."""
    scene = slice_view.view_box.mapViewToScene(QPointF(x_mm, y_mm))
    return QPointF(slice_view.graphics.mapFromScene(scene))


def drag(qtbot, slice_view, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton,
         steps: int = 8) -> None:
    """Drag with ``button`` from ``start`` to ``end`` (viewport pixels) in ``steps`` moves."""
    viewport = slice_view.graphics.viewport()
    _send(viewport, QEvent.Type.MouseButtonPress, start, button, button)
    for n in range(1, steps + 1):
        qtbot.wait(12)  # pyqtgraph ignores moves closer than 10 ms apart
        point = start + (end - start) * (n / steps)
        _send(viewport, QEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, button)
    qtbot.wait(12)
    _send(viewport, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


def click(qtbot, slice_view, pos: QPointF) -> None:
    viewport = slice_view.graphics.viewport()
    button = Qt.MouseButton.LeftButton
    _send(viewport, QEvent.Type.MouseButtonPress, pos, button, button)
    _send(viewport, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)


def hover(qtbot, slice_view, pos: QPointF) -> None:
    qtbot.wait(12)
    _send(slice_view.graphics.viewport(), QEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton,
          Qt.MouseButton.NoButton)


def wheel(slice_view, pos: QPointF, steps: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Turn the wheel by ``steps`` notches (positive = away from the user)."""
    viewport = slice_view.graphics.viewport()
    global_pos = QPointF(viewport.mapToGlobal(pos.toPoint()))
    event = QWheelEvent(pos, global_pos, QPoint(0, 0), QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)
