"""Put a scan on a model's input grid (spacing, shape, intensities) and map maps back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stethoscan.core.errors import InputMismatchError


@dataclass
class GridMapping:
    """How the original array became the model grid: zoom, then centre crop/pad."""

    original_shape: tuple[int, ...]
    zoomed_shape: tuple[int, ...]
    offsets: tuple[int, ...]  # start of the model grid in the zoomed array (negative = padding)
    model_shape: tuple[int, ...]

    def to_original(self, grid_map: np.ndarray) -> np.ndarray:
        """A map on the model grid -> the original grid (zero outside the model's field)."""
        zoomed = np.zeros(self.zoomed_shape, dtype=np.float32)
        src, dst = _overlap(self.offsets, self.model_shape, self.zoomed_shape)
        zoomed[dst] = grid_map[src]
        return resize_linear(zoomed, self.original_shape)


def _interpolation_matrix(n_out: int, n_in: int) -> np.ndarray:
    """(n_out, n_in) linear interpolation between sample centres, edges held."""
    centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    centres = np.clip(centres, 0.0, n_in - 1)
    low = np.floor(centres).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    weight = (centres - low).astype(np.float32)
    matrix = np.zeros((n_out, n_in), dtype=np.float32)
    matrix[np.arange(n_out), low] += 1.0 - weight
    matrix[np.arange(n_out), high] += weight
    return matrix


def resize_linear(array: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Separable (bi/tri)linear resize of a small map to a large grid, float32.

    One matrix product per axis: much faster than ``scipy.ndimage.zoom`` when upsampling a
    model-grid map (e.g. 64^3) to a full series (e.g. 384 x 384 x 274).
    """
    out = np.asarray(array, dtype=np.float32)
    for axis, size in enumerate(shape):
        if out.shape[axis] != size:
            matrix = _interpolation_matrix(int(size), out.shape[axis])
            out = np.moveaxis(np.tensordot(matrix, out, axes=([1], [axis])), 0, axis)
    return np.ascontiguousarray(out)


def _overlap(offsets, model_shape, zoomed_shape) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    src, dst = [], []
    for start, size, total in zip(offsets, model_shape, zoomed_shape, strict=True):
        lo, hi = max(start, 0), min(start + size, total)
        src.append(slice(lo - start, hi - start))
        dst.append(slice(lo, hi))
    return tuple(src), tuple(dst)


def _fit_shape(array: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    out = np.zeros(tuple(shape), dtype=array.dtype)
    region = tuple(slice(0, min(a, s)) for a, s in zip(array.shape, shape, strict=True))
    out[region] = array[region]
    return out


def fit_to_model_grid(array: np.ndarray, spacing_mm: Sequence[float],
                      target_spacing_mm: Sequence[float] | None, target_shape: Sequence[int]
                      ) -> tuple[np.ndarray, GridMapping]:  # fmt: skip
    """Resample to the target spacing (then centre crop/pad), or resize to the target shape.

    Linear interpolation; padding uses the array's minimum (background).
    """
    from scipy import ndimage

    target_shape = tuple(int(s) for s in target_shape)
    if target_spacing_mm:
        factors = [s / t for s, t in zip(spacing_mm, target_spacing_mm, strict=True)]
    else:
        factors = [t / n for t, n in zip(target_shape, array.shape, strict=True)]
    zoomed = ndimage.zoom(
        array.astype(np.float32), factors, order=1, grid_mode=True, mode="nearest"
    )
    if not target_spacing_mm:
        zoomed = _fit_shape(zoomed, target_shape)
    offsets = tuple((z - t) // 2 for z, t in zip(zoomed.shape, target_shape, strict=True))
    grid = np.full(target_shape, float(zoomed.min()), dtype=np.float32)
    src, dst = _overlap(offsets, target_shape, zoomed.shape)
    grid[src] = zoomed[dst]
    mapping = GridMapping(tuple(array.shape), tuple(zoomed.shape), offsets, target_shape)
    return grid, mapping


def normalize_intensities(grid: np.ndarray, method: str, params: dict[str, Any] | None = None
                          ) -> np.ndarray:  # fmt: skip
    """Intensity normalization named in the manifest.

    ``zscore`` (whole grid), ``zscore_brain`` / ``zscore_foreground`` (mean and SD of voxels above
    the grid's ``foreground_percentile``, default 20), ``minmax`` (to [0, 1]), ``ct_window``
    (``center``/``width`` in HU to [0, 1]), ``none``.
    """
    params = params or {}
    grid = grid.astype(np.float32)
    if method == "none":
        return grid
    if method == "minmax":
        low, high = float(grid.min()), float(grid.max())
        return (grid - low) / max(high - low, 1e-6)
    if method == "ct_window":
        center, width = float(params.get("center", 40.0)), float(params.get("width", 400.0))
        return np.clip((grid - (center - width / 2)) / width, 0.0, 1.0)
    if method == "zscore":
        return (grid - grid.mean()) / max(float(grid.std()), 1e-6)
    if method in ("zscore_brain", "zscore_foreground"):
        threshold = np.percentile(grid, float(params.get("foreground_percentile", 20.0)))
        fg = grid[grid > threshold]
        fg = fg if fg.size else grid.ravel()
        return (grid - fg.mean()) / max(float(fg.std()), 1e-6)
    raise InputMismatchError(
        f"The model asks for intensity normalization {method!r}, which this version of "
        "Stethoscan does not know. Update Stethoscan."
    )
