"""A loaded series: voxels in stored form plus the geometry to place them in the patient.

Kept as stored integers (int16/uint16) plus slope/intercept to save memory; converted to
physical values (HU for CT) only on demand. Axis order is (slice, row, column), i.e. (k, j, i).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Volume:
    voxels: np.ndarray  # (slices, rows, cols) stored values, or (slices, rows, cols, 3) uint8 RGB
    spacing_mm: tuple[float, float, float]  # (slice, row, column) spacing
    origin_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)  # patient position of voxel (0, 0, 0)
    # 3x3 matrix whose columns are the unit vectors (patient LPS) of the column (i), row (j) and
    # slice (k) directions: position = origin + direction @ (i*sx, j*sy, k*sz)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    slope: float = 1.0
    intercept: float = 0.0
    modality: str = ""
    units: str = ""  # "HU" for CT after the modality LUT; "" when the values have no unit
    photometric: str = "MONOCHROME2"  # MONOCHROME1 images are shown inverted by default
    series_uid: str = ""
    default_window: tuple[float, float] | None = None  # (center, width) in physical units
    loaded: np.ndarray | None = None  # bool per slice; None = all loaded
    warnings: list[str] = field(default_factory=list)

    @property
    def is_rgb(self) -> bool:
        return self.voxels.ndim == 4

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.voxels.shape[:3])  # type: ignore[return-value]

    def physical(self, index: int | slice = slice(None)) -> np.ndarray:
        """Physical values (e.g. HU) of a slice or slab as float32."""
        data = self.voxels[index]
        if self.is_rgb:
            return data.astype(np.float32)
        return data.astype(np.float32) * np.float32(self.slope) + np.float32(self.intercept)

    def index_to_patient_mm(self, k: float, j: float, i: float) -> np.ndarray:
        """Patient coordinates (LPS, mm) of voxel (slice k, row j, column i)."""
        sz, sy, sx = self.spacing_mm
        return np.asarray(self.origin_mm) + self.direction @ np.array([i * sx, j * sy, k * sz])
