"""The brain mask of a canonical T1 volume (a morphological skull strip) and its plausibility.

Steps 3 and 4 of :mod:`stethoscan.imaging.brain_preprocessing`; numpy/scipy only.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from stethoscan.core.errors import InputMismatchError

MIN_EXTENT_MM = 100.0  # the field of view must cover a whole brain along every axis
BRAIN_VOLUME_ML = (700.0, 2400.0)  # plausible adult brain-mask volume (brain + CSF spaces)
T1_CONTRAST_MIN = 1.05  # median(deep white matter) / median(outer rim) for a T1-like image


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


def brain_mask(image: np.ndarray, spacing_mm: float) -> np.ndarray:
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
