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
3. :func:`brain_mask` - a morphological skull strip, see its docstring for the limits.
4. :func:`check_brain` - the mask volume, field of view and T1 contrast are plausible.
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
from stethoscan.imaging.volume import Volume

CANONICAL_ORIENTATION = "LPS"  # canonical axes (z, y, x) point to Superior, Posterior, Left
TARGET_SPACING_MM = 2.0
TARGET_SHAPE = (80, 96, 80)  # (z, y, x) voxels at TARGET_SPACING_MM
MIN_SLICES = 40
MIN_EXTENT_MM = 100.0  # the field of view must cover a whole brain along every axis
BRAIN_VOLUME_ML = (700.0, 2400.0)  # plausible adult brain-mask volume (brain + CSF spaces)
T1_CONTRAST_MIN = 1.05  # median(deep white matter) / median(outer rim) for a T1-like image
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


# -- 3. brain mask ---------------------------------------------------------------------------
def otsu_threshold(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of a 1-D sample (maximises the between-class variance)."""
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist).astype(float)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mean0 = m0 / np.maximum(w0, 1)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(centres[int(np.argmax(between[:-1]))])


_CROSS = ndimage.generate_binary_structure(3, 1)
_CUBE = ndimage.generate_binary_structure(3, 3)


def _ball_steps(radius: int) -> list[np.ndarray]:
    """Alternating 6- and 26-neighbour steps: together close to a ball of ``radius`` voxels."""
    return [_CROSS if step % 2 == 0 else _CUBE for step in range(radius)]


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    for structure in _ball_steps(radius):
        mask = ndimage.binary_dilation(mask, structure)
    return mask


def _erode(mask: np.ndarray, radius: int) -> np.ndarray:
    for structure in _ball_steps(radius):
        mask = ndimage.binary_erosion(mask, structure)
    return mask


_IN_PLANE = np.zeros((3, 3, 3), bool)
_IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)


def _fill_holes(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """Fill background components not connected (through ``structure``) to the array edge."""
    labels, count = ndimage.label(~mask, structure)
    edge = np.zeros(count + 1, bool)
    for axis in range(3):
        if structure.any(axis=tuple(a for a in range(3) if a != axis))[[0, 2]].any():
            edge[np.take(labels, [0, -1], axis=axis).ravel()] = True
    edge[0] = True
    return mask | ~edge[labels]


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def brain_mask(image: np.ndarray, spacing_mm: float = TARGET_SPACING_MM) -> np.ndarray:
    """A morphological skull strip on the canonical grid (boolean array).

    Head = above Otsu's threshold of the smoothed image; tissue = above the midpoint between
    the head threshold and Otsu's threshold inside the head (keeps grey matter, drops CSF, skull
    and background). The tissue is eroded by ~4 mm to cut the thin bridges to scalp and neck, the
    largest component kept, dilated back inside the tissue, closed (~6 mm) and hole-filled
    so that the ventricles and sulcal CSF belong to the mask, grown by one voxel into surface
    voxels brighter than the head threshold (partial volume), and cut 135 mm below the top of
    the brain (the neck). Limits: not a real segmentation (no atlas, no bias correction): a strong
    bias field, a tumour or a very atrophic brain with wide CSF can leave dura, eyes or scalp
    fat in the mask or cut cortex; the check of its volume (:func:`check_brain`) catches gross
    failures only.
    """
    smooth = ndimage.gaussian_filter(image.astype(np.float32), 0.8)
    positive = smooth[smooth > 0]
    if positive.size < 1000:
        raise InputMismatchError("The image is empty; it cannot be a brain MRI.")
    head_threshold = otsu_threshold(positive)
    inside = smooth[smooth > head_threshold]
    tissue_threshold = (head_threshold + otsu_threshold(inside)) / 2
    tissue = smooth > tissue_threshold
    radius = max(1, int(round(4.0 / spacing_mm)))
    core = _largest_component(_erode(tissue, radius))
    brain = _largest_component(_dilate(core, radius + 1) & tissue)
    close_radius = max(1, int(round(6.0 / spacing_mm)))
    padded = np.pad(brain, close_radius + 1)
    padded = _erode(_dilate(padded, close_radius), close_radius)
    brain = padded[(slice(close_radius + 1, -close_radius - 1),) * 3]
    # per axial slice too: CSF spaces open to the cisterns in 3D are closed within a slice
    brain = _fill_holes(_fill_holes(brain, _CROSS), _IN_PLANE)
    # partial-volume voxels at the brain's surface (between head and tissue thresholds)
    brain |= ndimage.binary_dilation(brain, _CROSS) & (smooth > head_threshold)
    top = np.nonzero(brain.any(axis=(1, 2)))[0]
    if top.size:
        lowest = top.max() - int(round(135.0 / spacing_mm))
        brain[: max(lowest, 0)] = False
    return _largest_component(brain)


# -- 4. plausibility of the brain ------------------------------------------------------------
def check_brain(image: np.ndarray, mask: np.ndarray, spacing_mm: float) -> dict[str, float]:
    """Refuse when the mask is not brain-sized or the contrast is not T1-like; return figures.

    T1 heuristic: in a T1-weighted image white matter is brighter than grey matter and CSF. The
    median intensity of the deep part of the mask (> 12 mm from its edge: mostly white matter)
    must exceed the median of the outer 6 mm rim (cortex and sulcal CSF) by
    :data:`T1_CONTRAST_MIN`. T2 and PD images (bright CSF, dark white matter) fail it.
    """
    voxel_ml = spacing_mm**3 / 1000.0
    volume_ml = float(mask.sum() * voxel_ml)
    extent_mm = [float(np.ptp(np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != ax)))[0])
                       + 1) * spacing_mm if mask.any() else 0.0 for ax in range(3)]
    figures = {"brain_volume_ml": volume_ml, "brain_extent_si_mm": extent_mm[0],
               "brain_extent_ap_mm": extent_mm[1], "brain_extent_lr_mm": extent_mm[2]}
    low, high = BRAIN_VOLUME_ML
    if not low <= volume_ml <= high:
        raise InputMismatchError(
            f"No brain-sized region was found (mask volume {volume_ml:.0f} mL, expected "
            f"{low:.0f}-{high:.0f} mL). The image may not be a brain MRI, or not show the whole "
            "head; the MCI model cannot use it."
        )
    if min(extent_mm) < MIN_EXTENT_MM * 0.8:
        raise InputMismatchError(
            f"The brain found is only {min(extent_mm):.0f} mm across in one direction; the series "
            "does not cover the whole brain. The MCI model needs whole-brain coverage."
        )
    deep_mask = _erode(mask, int(round(12.0 / spacing_mm)))
    rim_mask = mask & ~_erode(mask, int(round(6.0 / spacing_mm)))
    deep, rim = image[deep_mask], image[rim_mask]
    ratio = float(np.median(deep) / max(np.median(rim), 1e-6)) if deep.size and rim.size else 0.0
    figures["t1_contrast_ratio"] = ratio
    if ratio < T1_CONTRAST_MIN:
        raise InputMismatchError(
            "The image contrast is not T1-like (white matter is not brighter than the cortex; "
            f"ratio {ratio:.2f}). The MCI model needs a T1-weighted MRI, not T2, FLAIR or PD."
        )
    return figures


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
