"""Planes of a volume as the views show them, on top of ``imaging.slice_rendering``.

A :class:`PlaneGeometry` maps between a plane's display pixels ``(index, row, col)`` and the
volume's voxels ``(k, j, i)``: slice_rendering decides which array axes a plane uses and how it
is flipped for radiological display; this class only remembers that to map back and forth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stethoscan.imaging import slice_rendering
from stethoscan.imaging.volume import Volume

PLANES = slice_rendering.PLANES


@dataclass
class PlaneImage:
    data: np.ndarray  # (rows, cols) stored values, or (rows, cols, 3) RGB; a view, not a copy
    row_spacing_mm: float
    col_spacing_mm: float
    labels: dict[str, str]  # "left", "right", "top", "bottom": patient directions at the edges
    location_mm: float  # plane position along its normal (patient coordinates)
    loaded: bool  # False while the slice is still being read


def _array_axis_direction(volume: Volume, axis: int) -> np.ndarray:
    """LPS unit vector of array axis 0 (k), 1 (j) or 2 (i)."""
    return np.asarray(volume.direction, dtype=float)[:, 2 - axis]


def plane_order(volume: Volume) -> list[str]:
    """Acquired plane first (the main view), then the two reformatted planes."""
    first = slice_rendering.acquired_plane(volume)
    return [first] + [p for p in PLANES if p != first]


class PlaneGeometry:
    """One plane of a volume: ``image(index)``, ``slice_array``, ``to_voxel``, ``from_voxel``."""

    def __init__(self, volume: Volume, plane: str) -> None:
        self.volume, self.plane = volume, plane
        self.fixed, self.row_axis, self.col_axis = slice_rendering.plane_axes(volume, plane)
        self.count = int(volume.shape[self.fixed])
        probe = slice_rendering.extract_plane(volume, plane, 0)
        self.rows, self.cols = (int(x) for x in probe.data.shape[:2])
        self.row_mm, self.col_mm = (float(x) for x in probe.pixel_spacing_mm)
        self.labels = probe.labels
        self._row_flip = float(np.dot(probe.row_direction, _array_axis_direction(volume, self.row_axis))) < 0
        self._col_flip = float(np.dot(probe.column_direction, _array_axis_direction(volume, self.col_axis))) < 0
        self._normal = _array_axis_direction(volume, self.fixed)

    @property
    def display_name(self) -> str:
        return self.plane.capitalize()

    def image(self, index: int) -> PlaneImage:
        index = int(np.clip(index, 0, self.count - 1))
        data = slice_rendering.extract_plane(self.volume, self.plane, index).data
        return PlaneImage(data, self.row_mm, self.col_mm, self.labels, self.location_mm(index),
                          self.slice_loaded(index))

    def slice_loaded(self, index: int) -> bool:
        """Whether everything shown in plane ``index`` has been read (only k-planes can lag)."""
        loaded = getattr(self.volume, "loaded", None)
        return True if loaded is None or self.fixed != 0 else bool(loaded[index])

    def slice_array(self, array: np.ndarray, index: int) -> np.ndarray:
        """Plane ``index`` of any array in the volume's voxel grid, oriented like the image."""
        v = self.volume
        proxy = Volume(voxels=array, spacing_mm=v.spacing_mm, origin_mm=v.origin_mm, direction=v.direction)
        return slice_rendering.extract_plane(proxy, self.plane, int(np.clip(index, 0, self.count - 1))).data

    def location_mm(self, index: int) -> float:
        """Position of plane ``index`` along its normal (patient mm)."""
        k, j, i = self.to_voxel(index, (self.rows - 1) / 2.0, (self.cols - 1) / 2.0)
        return float(np.dot(self.volume.index_to_patient_mm(k, j, i), self._normal))

    def to_voxel(self, index: float, row: float, col: float) -> tuple[float, float, float]:
        """Voxel coordinates (k, j, i) of display pixel (row, col) of plane ``index``."""
        voxel = [0.0, 0.0, 0.0]
        voxel[self.fixed] = index
        voxel[self.row_axis] = self.rows - 1 - row if self._row_flip else row
        voxel[self.col_axis] = self.cols - 1 - col if self._col_flip else col
        return voxel[0], voxel[1], voxel[2]

    def from_voxel(self, k: float, j: float, i: float) -> tuple[float, float, float]:
        """(index, row, col) of voxel (k, j, i) in this plane."""
        voxel = (k, j, i)
        row, col = voxel[self.row_axis], voxel[self.col_axis]
        return (
            voxel[self.fixed],
            self.rows - 1 - row if self._row_flip else row,
            self.cols - 1 - col if self._col_flip else col,
        )
