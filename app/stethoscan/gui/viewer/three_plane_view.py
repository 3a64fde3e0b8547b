"""The view area: one large plane, or three planes (axial, coronal, sagittal) with a linked cross-hair."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from stethoscan.gui.viewer.slice_view import SliceView
from stethoscan.gui.viewer.viewer_state import ViewerState


class PlaneLayout(QWidget):
    """Holds the three :class:`SliceView` s; ``set_three_plane`` switches the layout."""

    active_view_changed = Signal(object)  # SliceView
    cursor_reading = Signal(str)

    def __init__(self, state: ViewerState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        # The main view shows the acquired plane; the side views the two reformatted planes.
        self.main = SliceView(state, 0)
        self.side_a = SliceView(state, 1, compact=True)
        self.side_b = SliceView(state, 2, compact=True)
        self.views = [self.main, self.side_a, self.side_b]
        self.active = self.main
        self.three_plane = False
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(self.side_a)
        self.side.addWidget(self.side_b)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("planeSplitter")
        self.splitter.addWidget(self.main)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        for splitter in (self.side, self.splitter):
            splitter.setHandleWidth(3)
            splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        for view in self.views:
            view.activated.connect(self._set_active)
            view.cursor_reading.connect(self.cursor_reading)
        self.side.setVisible(False)

    def set_three_plane(self, enabled: bool) -> None:
        self.three_plane = bool(enabled)
        self.side.setVisible(self.three_plane)
        for view in self.views:
            view.set_crosshair_visible(self.three_plane)
        if self.three_plane:
            total = max(self.splitter.width(), 3)
            self.splitter.setSizes([total * 3 // 5, total * 2 // 5])
        else:
            self._set_active(self.main)
        for view in self.visible_views():
            view.reset_view()

    def visible_views(self) -> list[SliceView]:
        return list(self.views) if self.three_plane else [self.main]

    def view_for(self, plane: str) -> SliceView:
        """The view currently showing ``plane`` ("axial", "coronal" or "sagittal")."""
        return next(v for v in self.views if v.plane == plane)

    def _set_active(self, view: SliceView) -> None:
        if view is not self.active:
            self.active = view
            self.active_view_changed.emit(view)

    def reset_views(self) -> None:
        for view in self.visible_views():
            view.reset_view()

    def set_tool(self, tool: str) -> None:
        for view in self.views:
            view.measurements.set_tool(tool)

    def clear_measurements(self) -> None:
        for view in self.views:
            view.measurements.clear()
