"""Screenshots of the real window for the screenshot tests (``stethoscan --demo --screenshot DIR``).

Waits until the opened series is fully loaded, then saves ``main.png`` (the scan), ``three_plane.png``
and ``measurement.png`` (a distance and two ROIs), and quits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QTimer
from PySide6.QtWidgets import QApplication

_log = logging.getLogger(__name__)
LOAD_TIMEOUT_MS = 60_000
SETTLE_MS = 400


class ScreenshotScript:
    def __init__(self, window: Any, out_dir: Path) -> None:
        self.window, self.out_dir = window, Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        window.scan_viewer.loading_state.connect(self._on_state)
        QTimer.singleShot(LOAD_TIMEOUT_MS, self._give_up)
        self._started = False

    def _on_state(self, state: str) -> None:
        if state == "loaded" and not self._started:
            self._started = True
            QTimer.singleShot(SETTLE_MS, self._main)

    def _give_up(self) -> None:
        if not self._started:
            _log.error("Screenshot: the series did not load in time")
            self._grab("timeout.png")
            QApplication.exit(3)

    def _grab(self, name: str) -> None:
        QApplication.processEvents()
        pixmap = self.window.grab()
        pixmap.save(str(self.out_dir / name))

    def _main(self) -> None:
        self._grab("main.png")
        self.window.scan_viewer.actions_["three_plane"].setChecked(True)
        QTimer.singleShot(SETTLE_MS, self._three_plane)

    def _three_plane(self) -> None:
        self._grab("three_plane.png")
        viewer = self.window.scan_viewer
        viewer.actions_["three_plane"].setChecked(False)
        view = viewer.planes.main
        rect = view.image_rect()
        w, h = rect.width(), rect.height()
        layer = view.measurements
        layer.add("distance", QPointF(w * 0.20, h * 0.26), QPointF(w * 0.80, h * 0.26))
        layer.add("ellipse", QPointF(w * 0.26, h * 0.50), QPointF(w * 0.42, h * 0.62))
        layer.add("rectangle", QPointF(w * 0.60, h * 0.40), QPointF(w * 0.74, h * 0.50))
        viewer.actions_["tool_ellipse"].setChecked(True)
        QTimer.singleShot(SETTLE_MS, self._measurement)

    def _measurement(self) -> None:
        self._grab("measurement.png")
        QApplication.exit(0)
