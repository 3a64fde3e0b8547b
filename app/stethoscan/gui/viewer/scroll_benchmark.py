"""Scrolling speed of the scan viewer: time to redraw one 512 x 512 slice on screen.

Run ``python -m stethoscan.gui.viewer.scroll_benchmark [--json]`` (offscreen works). It scrolls a
synthetic 512 x 512 int16 CT series through the real viewer (window, corner text, repaint) and,
as a baseline in the same run, through a bare pyqtgraph ImageItem fed pre-windowed uint8 slices.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def _median_p95_ms(times: list[float]) -> tuple[float, float]:
    ms = np.asarray(times[5:]) * 1000.0
    return float(np.median(ms)), float(np.percentile(ms, 95))


def measure(slices: int = 80, size: int = 512) -> dict[str, float]:
    """Redraw times (ms) of the viewer and of the bare ImageItem baseline, and their ratio."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from stethoscan.core.settings import Settings
    from stethoscan.gui.app_context import AppContext
    from stethoscan.gui.application import _create_qapplication
    from stethoscan.gui.viewer.scan_viewer import ScanViewer
    from stethoscan.gui.workers import Workers
    from stethoscan.imaging.volume import Volume
    from stethoscan.imaging.windowing import apply_window

    app = _create_qapplication()
    voxels = np.random.default_rng(0).integers(0, 2000, (slices, size, size), dtype=np.int16)
    volume = Volume(voxels=voxels, spacing_mm=(1.0, 0.7, 0.7), intercept=-1024.0, modality="CT",
                    units="HU", default_window=(40.0, 400.0))
    workers = Workers()
    try:
        viewer = ScanViewer(AppContext(Settings(), store=None, workers=workers))
        viewer.resize(1000, 900)
        viewer.show()
        viewer.show_volume(volume, first_index=0)
        QApplication.processEvents()
        view, times = viewer.planes.main, []
        for k in range(1, slices):
            start = time.perf_counter()
            view.set_index(k)
            view.graphics.viewport().repaint()
            times.append(time.perf_counter() - start)
        viewer_ms = _median_p95_ms(times)
        viewer.close()
        graphics = pg.GraphicsView()
        box = pg.ViewBox(lockAspect=True)
        graphics.setCentralItem(box)
        item = pg.ImageItem(axisOrder="row-major")
        box.addItem(item)
        graphics.resize(1000, 900)
        graphics.show()
        grey = [apply_window(voxels[k], 40.0, 400.0, 1.0, -1024.0) for k in range(slices)]
        item.setImage(grey[0], levels=None)
        box.autoRange()
        app.processEvents()
        times = []
        for k in range(1, slices):
            start = time.perf_counter()
            item.setImage(grey[k], autoLevels=False, levels=None)
            graphics.viewport().repaint()
            times.append(time.perf_counter() - start)
        base_ms = _median_p95_ms(times)
        graphics.close()
    finally:
        workers.shutdown()
    return {
        "viewer_redraw_ms_median": viewer_ms[0], "viewer_redraw_ms_p95": viewer_ms[1],
        "bare_imageitem_ms_median": base_ms[0], "bare_imageitem_ms_p95": base_ms[1],
        "ratio_viewer_to_bare": viewer_ms[0] / base_ms[0] if base_ms[0] else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    result = measure()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:28s} {value:8.2f}")


if __name__ == "__main__":
    main()
