"""Brain MRI preprocessing for the MCI model: orientation, resampling, mask, crop, normalisation.

numpy/scipy only. The steps, each with an intermediate the viewer can overlay:

1. :func:`check_series` - header checks: MR, T1-like description, enough slices.
2. :func:`resample_canonical` - one trilinear resampling of the whole field of view onto a grid
   aligned with the patient axes (DICOM LPS), 2 mm isotropic by default, after an anti-aliasing
   block average. The canonical array axes are (z, y, x) = (inferior->superior,
   anterior->posterior, right->left): an axial slice shows anterior at the top and the patient's
   right on the image's left (radiological convention). Its :class:`~.volume.Volume` has an
   identity direction matrix. Oblique acquisitions are straightened (the full direction matrix
   is used, not the closest axis permutation). :class:`GridMapping` maps canonical voxels back to
   the original voxels (to draw overlays on the series the user opened).
3. :func:`~.brain_mask.brain_mask` - a morphological skull strip, see its docstring for the limits.
4. :func:`~.brain_mask.check_brain` - the mask volume, field of view and T1 contrast are plausible.
5. :func:`crop_box` - a fixed-shape box (default 80 x 96 x 80 voxels = 160 x 192 x 160 mm)
   centred on the mask's bounding box; parts outside the field of view are zero-padded.
6. :func:`normalise_in_mask` - robust z-score inside the mask (median, and the inter-quartile
   range / 1.349 as standard deviation), clipped to +-5, zero outside the mask.

:func:`preprocess_brain` runs them all and returns :class:`BrainPreprocessing`, which holds every
intermediate and maps them back to the original grid (:meth:`BrainPreprocessing.overlays`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from stethoscan.core.errors import InputMismatchError, SeriesGeometryError
from stethoscan.imaging.brain_mask import (  # noqa: F401 (re-exported)
    BRAIN_VOLUME_ML,
    MIN_EXTENT_MM,
    T1_CONTRAST_MIN,
    brain_mask,
    check_brain,
    otsu_threshold,
)
from stethoscan.imaging.volume import Volume

CANONICAL_ORIENTATION = "LPS"  # canonical axes (z, y, x) point to Superior, Posterior, Left
TARGET_SPACING_MM = 2.0
TARGET_SHAPE = (80, 96, 80)  # (z, y, x) voxels at TARGET_SPACING_MM
MIN_SLICES = 40
_NOT_T1 = re.compile(r"(T2|FLAIR|DWI|DTI|ADC|SWI|PD\b|PROTON|BOLD|FMRI|EPI|PERF|ASL|TOF|ANGIO)", re.I)
_T1_HINT = re.compile(r"(T1|MPRAGE|MP-RAGE|MP2RAGE|SPGR|BRAVO|TFE|FSPGR|IR-?FSPGR)", re.I)
_BRAIN_PARTS = {"", "HEAD", "BRAIN", "SKULL", "HEADNECK", "HEAD_NECK", "NECKHEAD", "CEREBRUM"}


@dataclass
class GridMapping:
    """Affine map ``original_index = matrix @ canonical_index + offset``.

    Indices are (slice, row, column) for the original volume and (z, y, x) for the canonical grid.
    """

    matrix: np.ndarray
    offset: np.ndarray
    canonical_shape: tuple[int, int, int]
    original_shape: tuple[int, int, int]

    def to_original_index(self, zyx: np.ndarray) -> np.ndarray:
        """Original (slice, row, column) indices of canonical indices, shape (..., 3)."""
        return np.asarray(zyx, float) @ self.matrix.T + self.offset

    def to_canonical_index(self, kji: np.ndarray) -> np.ndarray:
        """Canonical (z, y, x) indices of original indices, shape (..., 3)."""
        return (np.asarray(kji, float) - self.offset) @ np.linalg.inv(self.matrix).T

    def resample_to_original(
        self, data: np.ndarray, order: int = 1, step: int = 2, dtype: type = np.float32
    ) -> np.ndarray:
        """Resample a canonical-grid array onto the original voxel grid.

        Computed on every ``step``-th original voxel and repeated, which is exact enough for
        2 mm data shown on a sub-millimetre grid and ``step**3`` times faster. Outside the
        canonical grid the result is 0.
        """
        inverse = np.linalg.inv(self.matrix)
        coarse_shape = tuple(-(-n // step) for n in self.original_shape)
        # coarse voxel c sits at original index c * step + (step - 1) / 2
        matrix = inverse * step
        offset = inverse @ (np.full(3, (step - 1) / 2.0) - self.offset)
        source = data.astype(np.float32) if order > 0 else data
        coarse = ndimage.affine_transform(
            source, matrix, offset=offset, output_shape=coarse_shape, order=order,
            mode="constant", cval=0.0, prefilter=False,
        )
        full = coarse
        for axis in range(3):
            full = np.repeat(full, step, axis=axis) if step > 1 else full
        full = full[: self.original_shape[0], : self.original_shape[1], : self.original_shape[2]]
        return np.ascontiguousarray(full, dtype=dtype)


@dataclass
class CropBox:
    """A fixed-shape box on the canonical grid; ``start`` may be negative (zero padding)."""

    start: tuple[int, int, int]
    shape: tuple[int, int, int]

    def extract(self, data: np.ndarray) -> np.ndarray:
        """The box's contents, zero where it leaves ``data``."""
        out = np.zeros(self.shape, dtype=data.dtype)
        src, dst = self._overlap(data.shape)
        out[dst] = data[src]
        return out

    def paste(self, box_data: np.ndarray, canonical_shape: tuple[int, int, int]) -> np.ndarray:
        """A canonical-grid array holding ``box_data`` inside the box and 0 elsewhere."""
        out = np.zeros(canonical_shape, dtype=box_data.dtype)
        src, dst = self._overlap(canonical_shape)
        out[src] = box_data[dst]
        return out

    def outline(self, canonical_shape: tuple[int, int, int]) -> np.ndarray:
        """A uint8 canonical-grid mask of the box's inside (for the crop overlay)."""
        return self.paste(np.ones(self.shape, np.uint8), canonical_shape)

    def _overlap(self, shape: tuple[int, ...]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
        src, dst = [], []
        for start, size, total in zip(self.start, self.shape, shape, strict=True):
            lo, hi = max(start, 0), min(start + size, total)
            hi = max(hi, lo)
            src.append(slice(lo, hi))
            dst.append(slice(lo - start, hi - start))
        return tuple(src), tuple(dst)


@dataclass
class BrainPreprocessing:
    """Every intermediate of :func:`preprocess_brain`.

    ``canonical`` is the whole field of view on the canonical grid (float32 physical values),
    ``mask`` the brain mask on that grid, ``box`` the model's crop, ``model_input`` the
    normalised crop (float32, shape ``box.shape``), ``box_mask`` the mask inside the crop.
    ``checks`` holds the figures the input checks measured (e.g. ``brain_volume_ml``).
    """

    canonical: Volume
    mapping: GridMapping
    mask: np.ndarray
    box: CropBox
    model_input: np.ndarray
    box_mask: np.ndarray
    checks: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def box_to_original(self, box_data: np.ndarray, order: int = 1, step: int = 2) -> np.ndarray:
        """Map an array on the crop (e.g. a saliency map) onto the original voxel grid."""
        canonical = self.box.paste(box_data.astype(np.float32), self.mapping.canonical_shape)
        return self.mapping.resample_to_original(canonical, order=order, step=step)

    def original_slices_of_box_region(self, region: np.ndarray) -> tuple[int, int] | None:
        """First and last original slice index touched by a boolean region on the crop."""
        zyx = np.argwhere(region) + np.asarray(self.box.start)
        if zyx.size == 0:
            return None
        k = self.mapping.to_original_index(zyx)[:, 0]
        k = np.clip(np.rint(k), 0, self.mapping.original_shape[0] - 1).astype(int)
        return int(k.min()), int(k.max())

    def overlays(self, step: int = 2) -> dict[str, dict]:
        """Viewer overlay specs on the original grid (see ``AppContext.scan_overlay_changed``)."""
        shape = self.mapping.canonical_shape
        mask = self.mapping.resample_to_original(self.mask.astype(np.uint8), 0, step, np.uint8)
        box = self.mapping.resample_to_original(self.box.outline(shape), 0, step, np.uint8)
        return {
            "brain_mask": {"data": mask, "kind": "mask", "colormap": "green", "opacity": 0.35,
                           "label": "Brain mask (MCI model preprocessing)"},
            "model_crop": {"data": box, "kind": "mask", "colormap": "blue", "opacity": 0.15,
                           "label": f"Model input box ({_box_mm(self)} mm)"},
        }


def _box_mm(result: BrainPreprocessing) -> str:
    spacing = result.canonical.spacing_mm[0]
    return " x ".join(f"{n * spacing:.0f}" for n in result.box.shape)


# -- 1. header checks ------------------------------------------------------------------------
def check_series(
    modality: str, n_slices: int, description: str = "", body_part: str = ""
) -> list[str]:
    """Refuse series the model cannot use; return warnings for doubtful ones.

    Heuristics: the Modality must be MR; a description naming another contrast (T2, FLAIR,
    DWI, ...) without a T1 hint is refused; a body part other than head/brain is refused;
    fewer than :data:`MIN_SLICES` slices is refused.
    """
    if modality and modality.upper() != "MR":
        raise InputMismatchError(
            f"This series is {modality}, not MR. The MCI model needs a T1-weighted brain MRI; "
            "open the patient's T1 series (e.g. MPRAGE) instead."
        )
    part = (body_part or "").upper().replace(" ", "")
    if part not in _BRAIN_PARTS:
        raise InputMismatchError(
            f"The series is labelled body part {body_part!r}, not head or brain. The MCI model "
            "needs a T1-weighted brain MRI."
        )
    if description and _NOT_T1.search(description) and not _T1_HINT.search(description):
        raise InputMismatchError(
            f"The series is described as {description!r}, which is not T1-weighted. The MCI "
            "model needs a T1-weighted brain MRI (e.g. MPRAGE, SPGR)."
        )
    if n_slices < MIN_SLICES:
        raise InputMismatchError(
            f"The series has only {n_slices} slices; the MCI model needs a 3D T1-weighted "
            f"series of at least {MIN_SLICES} slices covering the whole brain."
        )
    warnings = []
    if not modality:
        warnings.append("The series does not say its modality; it is assumed to be MR.")
    if description and not _T1_HINT.search(description):
        warnings.append(
            f"The series description {description!r} does not say T1; the image contrast was "
            "checked instead."
        )
    return warnings


# -- 2. canonical resampling -----------------------------------------------------------------
def _direction(volume: Volume) -> np.ndarray:
    direction = np.asarray(volume.direction, float)
    if direction.shape != (3, 3) or not np.all(np.isfinite(direction)):
        raise SeriesGeometryError("The series has no valid orientation; it cannot be reoriented.")
    if abs(abs(np.linalg.det(direction)) - 1.0) > 0.05:
        raise SeriesGeometryError(
            "The slice orientation vectors of the series are not perpendicular unit vectors; the "
            "volume cannot be reoriented. Re-export the series from the scanner or PACS."
        )
    return direction


def _sum_strided(data: np.ndarray, axis: int, factor: int) -> np.ndarray:
    if factor == 1:
        return data
    index = [slice(None)] * 3
    total = None
    for phase in range(factor):
        index[axis] = slice(phase, None, factor)
        part = data[tuple(index)]
        total = part.astype(np.float32) if total is None else total + part
    return total


def _block_average(volume: Volume, spacing_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anti-aliasing block mean by whole factors; returns data, spacing (k, j, i), origin shift."""
    spacing = np.asarray(volume.spacing_mm, float)
    if np.any(spacing <= 0) or not np.all(np.isfinite(spacing)):
        raise SeriesGeometryError(f"The series has an invalid voxel spacing {tuple(spacing)} mm.")
    factors = np.maximum(1, np.floor(spacing_mm / spacing + 1e-6)).astype(int)
    data = volume.voxels
    if np.any(factors > 1):
        shape = [n // f * f for n, f in zip(data.shape, factors, strict=True)]
        data = data[: shape[0], : shape[1], : shape[2]]
        for axis in (2, 1, 0):  # strided adds are much faster than a reduce over a short axis
            data = _sum_strided(data, axis, int(factors[axis]))
        data = data / np.float32(np.prod(factors))
    data = data.astype(np.float32) * np.float32(volume.slope) + np.float32(volume.intercept)
    shift_index = (factors - 1) / 2.0  # block centre, in original voxels (k, j, i)
    return data, spacing * factors, shift_index


def resample_canonical(volume: Volume, spacing_mm: float = TARGET_SPACING_MM) -> tuple[Volume, GridMapping]:
    """Resample the whole field of view onto the canonical LPS grid (see the module docstring)."""
    if volume.is_rgb:
        raise InputMismatchError("The series is a colour image, not an MRI; open the T1 series.")
    direction = _direction(volume)
    spacing_kji = np.asarray(volume.spacing_mm, float)
    # world = origin + direction @ diag(s_ijk) @ (i, j, k); canonical world = c0 + spacing * (x, y, z)
    world_per_ijk = direction * spacing_kji[::-1][None, :]
    corners = np.array([[k, j, i] for k in (0, volume.shape[0] - 1)
                        for j in (0, volume.shape[1] - 1) for i in (0, volume.shape[2] - 1)], float)
    world = corners[:, ::-1] @ world_per_ijk.T + np.asarray(volume.origin_mm)
    lo, hi = world.min(axis=0), world.max(axis=0)
    shape_xyz = np.floor((hi - lo) / spacing_mm).astype(int) + 1
    canonical_shape = (int(shape_xyz[2]), int(shape_xyz[1]), int(shape_xyz[0]))
    # original (i, j, k) = inv(world_per_ijk) @ (lo + spacing * (x, y, z) - origin)
    inv = np.linalg.inv(world_per_ijk)
    m_xyz = inv * spacing_mm
    off_ijk = inv @ (lo - np.asarray(volume.origin_mm))
    flip = np.eye(3)[::-1]  # (x, y, z) <-> (z, y, x) and (i, j, k) <-> (k, j, i)
    mapping = GridMapping(flip @ m_xyz @ flip, flip @ off_ijk, canonical_shape, volume.shape)
    data, block_spacing, shift = _block_average(volume, spacing_mm)
    factors = block_spacing / spacing_kji
    # index into the block-averaged array: (original_index - shift) / factor
    matrix = mapping.matrix / factors[:, None]
    offset = (mapping.offset - shift) / factors
    out = ndimage.affine_transform(
        data, matrix, offset=offset, output_shape=canonical_shape, order=1, mode="constant",
        cval=0.0, prefilter=False,
    )
    canonical = Volume(
        voxels=out.astype(np.float32), spacing_mm=(spacing_mm,) * 3, origin_mm=tuple(lo),
        direction=np.eye(3), modality=volume.modality, series_uid=volume.series_uid,
    )
    return canonical, mapping


# -- 5./6. crop and normalisation ------------------------------------------------------------
def crop_box(mask: np.ndarray, shape: tuple[int, int, int] = TARGET_SHAPE) -> CropBox:
    """The fixed-shape box centred on the bounding box of ``mask``."""
    coords = np.nonzero(mask)
    start = []
    for axis, size in enumerate(shape):
        lo, hi = int(coords[axis].min()), int(coords[axis].max())
        start.append(int(round((lo + hi + 1) / 2 - size / 2)))
    return CropBox(tuple(start), tuple(shape))


def normalise_in_mask(image: np.ndarray, mask: np.ndarray, clip: float = 5.0) -> np.ndarray:
    """Robust z-score inside the mask (median, IQR / 1.349), clipped to +-clip, 0 outside."""
    values = image[mask]
    if values.size == 0:
        return np.zeros_like(image, dtype=np.float32)
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    scale = max((q75 - q25) / 1.349, 1e-6)
    out = np.clip((image - median) / scale, -clip, clip).astype(np.float32)
    out[~mask] = 0.0
    return out


def preprocess_brain(
    volume: Volume,
    description: str = "",
    body_part: str = "",
    spacing_mm: float = TARGET_SPACING_MM,
    shape: tuple[int, int, int] = TARGET_SHAPE,
) -> BrainPreprocessing:
    """Run every step; raise InputMismatchError/SeriesGeometryError on unusable input."""
    warnings = check_series(volume.modality, volume.shape[0], description, body_part)
    canonical, mapping = resample_canonical(volume, spacing_mm)
    mask = brain_mask(canonical.voxels, spacing_mm)
    figures = check_brain(canonical.voxels, mask, spacing_mm)
    box = crop_box(mask, shape)
    box_mask = box.extract(mask)
    model_input = normalise_in_mask(box.extract(canonical.voxels), box_mask)
    lost = 1.0 - box_mask.sum() / max(mask.sum(), 1)
    if lost > 0.02:
        warnings.append(f"{lost:.0%} of the brain mask lies outside the model's input box.")
    figures["mask_outside_box_fraction"] = float(lost)
    return BrainPreprocessing(canonical, mapping, mask, box, model_input, box_mask, figures, warnings)
