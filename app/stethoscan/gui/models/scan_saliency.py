"""A prediction's saliency map on the open volume's voxel grid, for the scan viewer (Qt-free).

A volume map (``saliency_space == "volume"``) is already on the series' grid; a 2D model's map
("image") belongs to one slice (``details["slice_index"]``) and is placed there in an 8-bit
volume. A map is only drawn on the series it was computed on.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def map_on_volume_grid(prediction: Any, input_ref: dict[str, Any], volume: Any,
                       series_uid: str | None = None) -> tuple[np.ndarray | None, str]:  # fmt: skip
    """(map on ``volume``'s grid, "") or (None, why it cannot be drawn on the open scan)."""
    saliency = prediction.saliency
    wanted = input_ref.get("series_uid")
    open_uid = series_uid or getattr(volume, "series_uid", "")
    if volume is None or (wanted and open_uid and wanted != open_uid):
        return None, "Open the scan this result was computed on to see its map."
    if prediction.saliency_space == "volume":
        if tuple(saliency.shape) != tuple(volume.shape):
            return None, (f"The map's grid {tuple(saliency.shape)} does not fit the open scan "
                          f"{tuple(volume.shape)}.")  # fmt: skip
        return saliency, ""
    k = (prediction.details or {}).get("slice_index")
    if k is None or tuple(saliency.shape) != tuple(volume.shape[1:]) or not 0 <= k < volume.shape[0]:
        return None, "The map's slice does not fit the open scan."
    grid = np.zeros(volume.shape, dtype=np.uint8)  # 2D model: its one slice, 8-bit
    grid[k] = np.round(np.clip(saliency, 0, 1) * 255).astype(np.uint8)
    return grid, ""
