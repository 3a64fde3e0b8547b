"""Heat maps and mask outlines drawn over a slice (saliency, brain mask, ...).

An overlay spec (see ``AppContext.scan_overlay_changed``) holds ``data`` in the volume's voxel
grid, ``kind`` ("heatmap" or "mask"), ``colormap``, ``opacity`` in [0, 1] and a ``label``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor

DEFAULT_MASK_COLOR = "#39d98a"


def heatmap_lut(colormap: str) -> np.ndarray:
    """256-entry RGBA table: the colour map with alpha rising from 0, so low values stay clear."""
    try:
        cmap = pg.colormap.get(colormap)
    except (FileNotFoundError, KeyError, ValueError):
        cmap = pg.colormap.get("inferno")
    lut = np.asarray(cmap.getLookupTable(0.0, 1.0, 256, alpha=True), dtype=np.uint8).copy()
    lut[:, 3] = np.clip(np.linspace(0, 255 * 1.6, 256), 0, 255).astype(np.uint8)
    return lut


def mask_outline(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` that touch a pixel outside it (4-neighbourhood)."""
    m = np.asarray(mask, dtype=bool)
    interior = m.copy()
    interior[1:, :] &= m[:-1, :]
    interior[:-1, :] &= m[1:, :]
    interior[:, 1:] &= m[:, :-1]
    interior[:, :-1] &= m[:, 1:]
    return m & ~interior


def outline_rgba(mask: np.ndarray, color: str) -> np.ndarray:
    edge = mask_outline(mask)
    rgba = np.zeros(edge.shape + (4,), dtype=np.uint8)
    c = QColor(color)
    rgba[edge] = (c.red(), c.green(), c.blue(), 255)
    return rgba


class OverlayImages:
    """One ImageItem per overlay in a view box, refreshed for the shown plane and slice."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self.view_box = view_box
        self.items: dict[str, pg.ImageItem] = {}
        self._levels: dict[str, tuple[float, float]] = {}

    def sync(self, overlays: dict[str, dict[str, Any]]) -> None:
        """Create or drop items so there is one per overlay."""
        for name in list(self.items):
            if name not in overlays:
                self.view_box.removeItem(self.items.pop(name))
                self._levels.pop(name, None)
        for name, spec in overlays.items():
            item = self.items.get(name)
            if item is None:
                item = pg.ImageItem(axisOrder="row-major")
                item.setZValue(10)
                self.view_box.addItem(item)
                self.items[name] = item
            data = np.asarray(spec["data"])
            if spec.get("kind", "heatmap") == "heatmap":
                lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
                self._levels[name] = (lo, hi if hi > lo else lo + 1.0)
                item.setLookupTable(heatmap_lut(spec.get("colormap", "inferno")))
            item.setOpacity(float(spec.get("opacity", 0.45)))

    def show(self, overlays: dict[str, dict[str, Any]], geometry: Any, index: int, rect: QRectF,
             visible: bool = True) -> None:
        """Draw each overlay's plane ``index`` in ``rect`` (view mm)."""
        for name, spec in overlays.items():
            item = self.items.get(name)
            if item is None:
                continue
            plane = geometry.slice_array(np.asarray(spec["data"]), index)
            if spec.get("kind", "heatmap") == "mask":
                item.setImage(outline_rgba(plane, spec.get("color", DEFAULT_MASK_COLOR)),
                              autoLevels=False, levels=(0, 255))
            else:
                item.setImage(np.ascontiguousarray(plane, dtype=np.float32), autoLevels=False,
                              levels=self._levels[name])
            item.setRect(rect)
            item.setVisible(visible)
