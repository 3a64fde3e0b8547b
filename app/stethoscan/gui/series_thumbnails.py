"""Series thumbnails for the patient browser: the middle image, windowed, at most 64 px.

``make_thumbnails(series_list, task)`` runs in the io pool and hands each thumbnail over as a
partial result ``(series_uid, uint8 array)``; a series whose image cannot be decoded gets none.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from stethoscan.core.errors import StethoscanError

_log = logging.getLogger(__name__)
THUMBNAIL_PX = 64


def thumbnail_of(series: Any, size_px: int = THUMBNAIL_PX) -> np.ndarray:
    """Grey (rows, cols) or RGB (rows, cols, 3) uint8 image of the series' middle image."""
    from stethoscan.imaging.pixel_decoding import decode_file
    from stethoscan.imaging.windowing import apply_window, auto_window

    instance = series.instances[series.number_of_slices // 2]
    image = decode_file(instance.path, instance.frame)
    pixels = image.pixels
    step = max(1, int(np.ceil(max(pixels.shape[:2]) / size_px)))
    pixels = pixels[::step, ::step]
    if pixels.ndim == 3:
        return np.ascontiguousarray(pixels.astype(np.uint8))
    center, width = image.window or auto_window(pixels, image.slope, image.intercept)
    invert = image.photometric == "MONOCHROME1"
    return np.ascontiguousarray(apply_window(pixels, center, width, image.slope, image.intercept, invert))


def make_thumbnails(series_list: list[Any], task: Any) -> int:
    """Thumbnails of ``series_list`` as partial results; returns how many were made."""
    made = 0
    for n, series in enumerate(series_list):
        task.check_cancelled()
        if series.number_of_slices:
            try:
                task.partial((series.series_uid, thumbnail_of(series)))
                made += 1
            except (StethoscanError, OSError, ValueError) as exc:  # a thumbnail is optional
                _log.info("No thumbnail for a series: %s", type(exc).__name__)
        task.progress((n + 1) / len(series_list), "thumbnails")
    return made
