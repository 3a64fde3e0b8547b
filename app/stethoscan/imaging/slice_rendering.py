"""Planes of a volume (acquired slice and axial/coronal/sagittal MPR) rendered to RGB arrays.

Display conventions (radiological): axial and coronal show the patient's right on the image
left; axial has anterior at the top; coronal and sagittal have superior at the top; sagittal has
anterior on the left. Directions are patient LPS (DICOM): +x left, +y posterior, +z superior.
A plane is a numpy view of the volume (no copy); rendering windows it to uint8.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np

from stethoscan.core.errors import ValidationError
from stethoscan.imaging.volume import Volume
from stethoscan.imaging.windowing import apply_window

PLANES = ("axial", "coronal", "sagittal")
_PATIENT_AXIS_OF_NORMAL = {"axial": 2, "coronal": 1, "sagittal": 0}
# For each plane: (patient axis along display rows, sign), (patient axis along columns, sign)
_DISPLAY_AXES = {
    "axial": ((1, +1), (0, +1)),  # rows towards posterior, columns towards the patient's left
    "coronal": ((2, -1), (0, +1)),  # rows towards inferior, columns towards the patient's left
    "sagittal": ((2, -1), (1, +1)),  # rows towards inferior, columns towards posterior
}
_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # negative, positive end of x, y, z (LPS)
OBLIQUE_THRESHOLD = 0.3  # a direction component above this adds a letter ("LA"): ~17 degrees


@dataclass
class PlaneImage:
    """One plane ready for display: a view of the stored values plus its geometry."""

    data: np.ndarray  # (rows, cols) stored values or (rows, cols, 3) uint8 RGB
    pixel_spacing_mm: tuple[float, float]  # (distance between rows, between columns)
    row_direction: np.ndarray  # LPS unit vector of increasing display row (downwards)
    column_direction: np.ndarray  # LPS unit vector of increasing display column (rightwards)
    plane: str  # "acquired", "axial", "coronal" or "sagittal"
    index: int  # index along the volume axis held fixed

    @property
    def aspect(self) -> float:
        """Height / width of one pixel on screen (row spacing / column spacing)."""
        return self.pixel_spacing_mm[0] / self.pixel_spacing_mm[1]

    @property
    def labels(self) -> dict[str, str]:
        return edge_labels(self.row_direction, self.column_direction)


# --- orientation labels --------------------------------------------------------------------
def orientation_label(direction: np.ndarray) -> str:
    """Letters for an LPS direction, strongest first: (1,0,0) -> 'L', (0.7,-0.7,0) -> 'LA'."""
    v = np.asarray(direction, dtype=float)
    norm = np.linalg.norm(v)
    if norm == 0:
        return ""
    v = v / norm
    letters = []
    for axis in np.argsort(-np.abs(v)):
        if not letters or abs(v[axis]) > OBLIQUE_THRESHOLD:
            letters.append(_LETTERS[axis][int(v[axis] > 0)])
    return "".join(letters)


def edge_labels(row_direction: np.ndarray, column_direction: np.ndarray) -> dict[str, str]:
    """Labels for the four image edges from the display row and column directions."""
    return {
        "top": orientation_label(-row_direction),
        "bottom": orientation_label(row_direction),
        "left": orientation_label(-column_direction),
        "right": orientation_label(column_direction),
    }


# --- plane extraction ----------------------------------------------------------------------
def _axis_directions(volume: Volume) -> np.ndarray:
    """LPS unit vectors of array axes 0 (k, slices), 1 (j, rows) and 2 (i, columns)."""
    d = np.asarray(volume.direction, dtype=float)
    return np.stack([d[:, 2], d[:, 1], d[:, 0]])


def _patient_axis_of_array_axis(volume: Volume) -> tuple[int, int, int]:
    """Which patient axis (0=x, 1=y, 2=z) each array axis runs along, best overall match."""
    dirs = np.abs(_axis_directions(volume))
    best = max(itertools.permutations(range(3)),
               key=lambda p: sum(dirs[a, p[a]] for a in range(3)))
    return tuple(int(v) for v in best)  # type: ignore[return-value]


def plane_axes(volume: Volume, plane: str) -> tuple[int, int, int]:
    """(fixed array axis, array axis along display rows, array axis along display columns)."""
    if plane not in PLANES:
        raise ValidationError(f"Unknown plane '{plane}'. Choose one of: {', '.join(PLANES)}.")
    patient_of = _patient_axis_of_array_axis(volume)
    array_of = {p: a for a, p in enumerate(patient_of)}
    (row_patient, _), (col_patient, _) = _DISPLAY_AXES[plane]
    return array_of[_PATIENT_AXIS_OF_NORMAL[plane]], array_of[row_patient], array_of[col_patient]


def acquired_plane(volume: Volume) -> str:
    """The standard plane closest to the acquired slices (the one whose fixed axis is k)."""
    return next(p for p in PLANES if plane_axes(volume, p)[0] == 0)


def plane_count(volume: Volume, plane: str) -> int:
    """Number of planes of this orientation (the size of the fixed axis)."""
    if plane == "acquired":
        return volume.shape[0]
    return volume.shape[plane_axes(volume, plane)[0]]


def _spacing_of_axis(volume: Volume, axis: int) -> float:
    return float(volume.spacing_mm[axis])


def extract_plane(volume: Volume, plane: str, index: int) -> PlaneImage:
    """The plane ``plane`` at ``index`` along its fixed array axis, oriented for display."""
    if plane == "acquired":
        return extract_acquired_slice(volume, index)
    fixed, row_axis, col_axis = plane_axes(volume, plane)
    count = volume.shape[fixed]
    if not 0 <= index < count:
        raise ValidationError(f"The {plane} index must be between 0 and {count - 1}.")
    dirs = _axis_directions(volume)
    (row_patient, row_sign), (col_patient, col_sign) = _DISPLAY_AXES[plane]
    data = _take_view(volume, fixed, index)
    remaining = [a for a in range(3) if a != fixed]  # array axes left in `data`, in order
    if remaining.index(row_axis) == 1:
        data = np.swapaxes(data, 0, 1)
    row_dir, col_dir = dirs[row_axis].copy(), dirs[col_axis].copy()
    if np.sign(row_dir[row_patient]) != row_sign:
        data, row_dir = data[::-1], -row_dir
    if np.sign(col_dir[col_patient]) != col_sign:
        data, col_dir = data[:, ::-1], -col_dir
    spacing = (_spacing_of_axis(volume, row_axis), _spacing_of_axis(volume, col_axis))
    return PlaneImage(data, spacing, row_dir, col_dir, plane, index)


def _take_view(volume: Volume, axis: int, index: int) -> np.ndarray:
    selector: list[slice | int] = [slice(None)] * volume.voxels.ndim
    selector[axis] = index
    return volume.voxels[tuple(selector)]


def extract_acquired_slice(volume: Volume, k: int) -> PlaneImage:
    """Slice ``k`` as stored in the file (rows and columns as acquired)."""
    if not 0 <= k < volume.shape[0]:
        raise ValidationError(f"The slice number must be between 0 and {volume.shape[0] - 1}.")
    dirs = _axis_directions(volume)
    spacing = (float(volume.spacing_mm[1]), float(volume.spacing_mm[2]))
    return PlaneImage(volume.voxels[k], spacing, dirs[1].copy(), dirs[2].copy(), "acquired", k)


# --- rendering -----------------------------------------------------------------------------
def render_plane(
    plane: PlaneImage,
    center: float,
    width: float,
    slope: float = 1.0,
    intercept: float = 0.0,
    invert: bool = False,
) -> np.ndarray:
    """RGB uint8 (rows, cols, 3) of ``plane`` with window (center, width) in physical units."""
    if plane.data.ndim == 3:
        rgb = np.ascontiguousarray(plane.data, dtype=np.uint8)
        return 255 - rgb if invert else rgb
    grey = apply_window(plane.data, center, width, slope, intercept, invert)
    return np.repeat(grey[:, :, np.newaxis], 3, axis=2)


def render_volume_plane(volume: Volume, plane: PlaneImage, window: tuple[float, float],
                        invert: bool | None = None) -> np.ndarray:
    """Render with the volume's rescale; MONOCHROME1 is inverted unless ``invert`` says."""
    if invert is None:
        invert = volume.photometric == "MONOCHROME1"
    return render_plane(plane, window[0], window[1], volume.slope, volume.intercept, invert)


def to_square_pixels(rgb: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> np.ndarray:
    """Resample (bilinear) so that rows and columns have the same spacing (the finer one)."""
    from PIL import Image

    row_mm, col_mm = (float(s) for s in pixel_spacing_mm)
    if row_mm <= 0 or col_mm <= 0 or abs(row_mm - col_mm) < 1e-3 * max(row_mm, col_mm):
        return rgb
    target = min(row_mm, col_mm)
    height = max(1, int(round(rgb.shape[0] * row_mm / target)))
    width = max(1, int(round(rgb.shape[1] * col_mm / target)))
    image = Image.fromarray(np.ascontiguousarray(rgb)).resize((width, height), Image.BILINEAR)
    return np.asarray(image)


def write_png(rgb: np.ndarray, path: str | os.PathLike[str],
              labels: dict[str, str] | None = None, caption: str = "") -> None:
    """Write RGB uint8 to a PNG, with orientation letters on the edges and a caption
    (lines separated by newlines) in the top-left corner."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), mode="RGB")
    if labels or caption:
        _draw_overlay(ImageDraw.Draw(image), image.size, labels or {}, caption)
    image.save(os.fspath(path), format="PNG")


def _draw_overlay(draw, size: tuple[int, int], labels: dict[str, str], caption: str) -> None:
    from PIL import ImageFont

    width, height = size
    font_px = max(10, min(width, height) // 28)
    try:
        font = ImageFont.load_default(size=font_px)
    except (TypeError, OSError):  # Pillow without FreeType: fixed bitmap font
        font = ImageFont.load_default()
    margin = max(3, font_px // 3)
    style = {"font": font, "fill": (255, 230, 80), "stroke_width": 2, "stroke_fill": (0, 0, 0)}
    anchors = {
        "top": ((width / 2, margin), "mt"),
        "bottom": ((width / 2, height - margin), "mb"),
        "left": ((margin, height / 2), "lm"),
        "right": ((width - margin, height / 2), "rm"),
    }
    for edge, (xy, anchor) in anchors.items():
        if labels.get(edge):
            draw.text(xy, labels[edge], anchor=anchor, **style)
    if caption:  # top-left corner, one item per line, clear of the centred letters
        draw.multiline_text((margin, margin), caption, anchor="la", spacing=2,
                            **{**style, "fill": (255, 255, 255)})
