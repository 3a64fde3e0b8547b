"""Synthetic brains with known atrophy, made by deforming one real T1 template (numpy/scipy only).

The template (``resources/templates/t1_template_2mm.npz``) is the real 7 T T1 brain MRI of the
studyforrest data set (PDDL), run through :func:`~stethoscan.imaging.brain_preprocessing.
preprocess_brain` and cropped to the model's 80 x 96 x 80 box at 2 mm (canonical LPS grid). Its
region labels are APPROXIMATE: hippocampus and medial temporal lobe (MTL) regions are ellipsoids
placed at positions taken from the MNI152 atlas relative to the brain's bounding box; ventricles
and temporal horns are the CSF-dark voxels of central boxes; lobes are bounding-box fractions.

A synthetic brain is the template resampled through a smooth map: positioning (rotation,
translation, brain size), a Gaussian-smoothed random shape field, and atrophy fields that shrink
the hippocampus and MTL regions (radial fields towards their centres, weighted by their
Gaussian-smoothed indicator) and enlarge the ventricles and temporal horns (walls pushed out along
the gradient of their smoothed indicator). The gain of each field is calibrated on the template so
that a requested volume change is obtained. Intensity gamma, a smooth bias field, blur and noise
are added last. How much atrophy each class gets is drawn in :mod:`.mci_cohort`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage

from stethoscan.core import paths
from stethoscan.core.errors import TrainingDataError
from stethoscan.imaging.brain_preprocessing import (
    TARGET_SPACING_MM,
    normalise_in_mask,
    preprocess_brain,
)
from stethoscan.imaging.volume import Volume

TEMPLATE_NAME = "t1_template_2mm.npz"
REGION_NAMES: dict[int, str] = {
    1: "left hippocampus", 2: "right hippocampus",
    3: "left medial temporal lobe", 4: "right medial temporal lobe",
    5: "lateral ventricles", 6: "left temporal horn", 7: "right temporal horn",
    10: "left frontal lobe", 11: "right frontal lobe", 12: "left parietal lobe",
    13: "right parietal lobe", 14: "left temporal lobe", 15: "right temporal lobe",
    16: "left occipital lobe", 17: "right occipital lobe", 18: "cerebellum and brainstem",
    19: "deep grey and white matter",
}
ATROPHY_REGIONS = (1, 2, 3, 4, 5, 6, 7)
# Shrinking structures (radial fields) and enlarging CSF spaces (wall-normal fields).
SHRINKING = {"hippocampus_left": (1,), "hippocampus_right": (2,), "mtl_left": (1, 3),
             "mtl_right": (2, 4)}
_WITHIN = {"hippocampus_left": "mtl_left", "hippocampus_right": "mtl_right"}
ENLARGING = {"ventricles": (5,), "temporal_horn_left": (6,), "temporal_horn_right": (7,)}
# MNI152 (RAS, mm) centres; the MNI brain's box is x -70..70, y -104..70, z -72..80 (approx).
_MNI_BOX = ((-70.0, 70.0), (-104.0, 70.0), (-72.0, 80.0))
_TILT_DEG = 30.0  # hippocampal long axis rises ~30 degrees from anterior to posterior


@dataclass(eq=False)  # hashed by identity: cached fields are per template object
class BrainTemplate:
    """A T1 template on the model's crop grid: raw intensity, brain mask, region labels."""

    t1: np.ndarray  # float32 (z, y, x), arbitrary units
    mask: np.ndarray  # bool
    labels: np.ndarray  # uint8, codes of REGION_NAMES (0 outside the brain)
    spacing_mm: float = TARGET_SPACING_MM
    source: str = ""

    @property
    def bbox(self) -> np.ndarray:
        """(3, 2) first and last brain voxel along z, y, x."""
        return _bbox(self.mask)


def _bbox(mask: np.ndarray) -> np.ndarray:
    coords = np.nonzero(mask)
    return np.array([[c.min(), c.max()] for c in coords], float)


# -- building and storing the template -------------------------------------------------------
def build_template(volume: Volume, description: str = "T1") -> BrainTemplate:
    """Preprocess a real T1 volume and derive the approximate region labels."""
    result = preprocess_brain(volume, description=description)
    t1 = result.box.extract(result.canonical.voxels).astype(np.float32)
    mask = result.box_mask.astype(bool)
    return BrainTemplate(t1, mask, derive_regions(t1, mask), TARGET_SPACING_MM)


def _mni_to_voxel(mni_xyz: tuple[float, float, float], bbox: np.ndarray) -> np.ndarray:
    """MNI (RAS mm) -> template voxel (z, y, x) through bounding-box fractions."""
    x, y, z = mni_xyz
    fx = (-x - _MNI_BOX[0][0]) / np.ptp(_MNI_BOX[0])  # canonical x points to the patient's left
    fy = (-y + _MNI_BOX[1][1]) / np.ptp(_MNI_BOX[1])  # canonical y points posterior
    fz = (z - _MNI_BOX[2][0]) / np.ptp(_MNI_BOX[2])
    frac = np.array([fz, fy, fx])
    return bbox[:, 0] + frac * (bbox[:, 1] - bbox[:, 0])


def _ellipsoid(shape: tuple[int, ...], centre: np.ndarray, semi_mm: tuple[float, float, float],
               spacing_mm: float) -> np.ndarray:
    """Ellipsoid tilted in the sagittal plane; semi-axes (long axis, left-right, third) in mm."""
    grid = np.indices(shape, dtype=np.float32)
    d = [(grid[a] - centre[a]) * spacing_mm for a in range(3)]
    t = np.deg2rad(_TILT_DEG)
    along = d[1] * np.cos(t) + d[0] * np.sin(t)  # posterior and up
    across = -d[1] * np.sin(t) + d[0] * np.cos(t)
    long_mm, lr_mm, third_mm = semi_mm
    return (along / long_mm) ** 2 + (d[2] / lr_mm) ** 2 + (across / third_mm) ** 2 <= 1.0


def derive_regions(t1: np.ndarray, mask: np.ndarray, spacing_mm: float = TARGET_SPACING_MM) -> np.ndarray:
    """Approximate region labels (see the module docstring); uint8 codes of REGION_NAMES."""
    bbox = _bbox(mask)
    labels = _lobes(mask, bbox)
    csf = mask & (t1 < 0.5 * np.median(t1[mask]))
    frac = _fractions(mask.shape, bbox)
    central = (np.abs(frac[2] - 0.5) < 0.2) & (frac[1] > 0.2) & (frac[1] < 0.75)
    central &= (frac[0] > 0.4) & (frac[0] < 0.75)
    labels[_big_components(csf & central, min_voxels=60)] = 5
    for side, sign, hip, mtl, horn in (("left", 1, 1, 3, 6), ("right", -1, 2, 4, 7)):
        del side
        mtl_region = _ellipsoid(mask.shape, _mni_to_voxel((-24.0 * sign, -16.0, -22.0), bbox),
                                (28.0, 9.0, 8.0), spacing_mm)
        hippocampus = _ellipsoid(mask.shape, _mni_to_voxel((-27.0 * sign, -22.0, -13.0), bbox),
                                 (22.0, 7.0, 6.0), spacing_mm)
        horn_zone = ndimage.binary_dilation(hippocampus, iterations=2) & csf & (labels != 5)
        labels[mask & mtl_region] = mtl
        labels[mask & hippocampus] = hip
        labels[horn_zone & ~hippocampus] = horn
    labels[~mask] = 0
    return labels


def _fractions(shape: tuple[int, ...], bbox: np.ndarray) -> list[np.ndarray]:
    grid = np.indices(shape, dtype=np.float32)
    return [(grid[a] - bbox[a, 0]) / max(bbox[a, 1] - bbox[a, 0], 1.0) for a in range(3)]


def _lobes(mask: np.ndarray, bbox: np.ndarray) -> np.ndarray:
    """Crude lobes from bounding-box fractions (for naming saliency only)."""
    fz, fy, fx = _fractions(mask.shape, bbox)
    left = fx >= 0.5
    labels = np.where(left, 12, 13).astype(np.uint8)  # parietal by default
    labels[fy < 0.45] = np.where(left, 10, 11)[fy < 0.45]
    temporal = (fz < 0.5) & (np.abs(fx - 0.5) > 0.22) & (fy > 0.2) & (fy < 0.8)
    labels[temporal] = np.where(left, 14, 15)[temporal]
    occipital = fy > 0.78
    labels[occipital] = np.where(left, 16, 17)[occipital]
    deep = (np.abs(fx - 0.5) < 0.17) & (fy > 0.3) & (fy < 0.7) & (fz > 0.3) & (fz < 0.65)
    labels[deep] = 19
    labels[(fz < 0.3) & (fy > 0.55)] = 18
    labels[~mask] = 0
    return labels


def _big_components(mask: np.ndarray, min_voxels: int) -> np.ndarray:
    labels, count = ndimage.label(mask)
    if count == 0:
        return mask
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_voxels
    keep[0] = False
    return keep[labels]


def save_template(template: BrainTemplate, path: Path) -> None:
    """Store as a compressed npz (uint8 intensities, 99.5th brain percentile -> 230)."""
    scale = 230.0 / float(np.percentile(template.t1[template.mask], 99.5))
    t1 = np.clip(np.rint(template.t1 * scale), 0, 255).astype(np.uint8)
    meta = {"spacing_mm": template.spacing_mm, "region_names": REGION_NAMES,
            "orientation": "canonical LPS, axes (z, y, x)", "source": template.source}
    np.savez_compressed(path, t1=t1, mask=template.mask.astype(np.uint8),
                        labels=template.labels, meta=np.array(json.dumps(meta)))


def default_template_path() -> Path:
    return paths.resources_dir() / "templates" / TEMPLATE_NAME


@lru_cache(maxsize=2)
def load_template(path: Path | None = None) -> BrainTemplate:
    """The bundled template (cached); raises TrainingDataError when the file is missing."""
    path = Path(path) if path is not None else default_template_path()
    if not path.is_file():
        raise TrainingDataError(
            f"The brain template {path} is missing; reinstall Stethoscan or rebuild it with "
            "`python -m stethoscan.training.brain_synthesis SERIES_DIR`."
        )
    with np.load(path) as data:
        meta = json.loads(str(data["meta"]))
        return BrainTemplate(data["t1"].astype(np.float32), data["mask"].astype(bool),
                             data["labels"].astype(np.uint8), float(meta["spacing_mm"]),
                             str(meta.get("source", "")))


# -- atrophy fields --------------------------------------------------------------------------
@dataclass
class AtrophyBasis:
    """Unit displacement fields (voxels, (3, z, y, x)) and their gain -> volume-change tables."""

    fields: dict[str, np.ndarray]
    indicators: dict[str, np.ndarray]  # soft indicator of each structure (for calibration)
    mtl_indicator: np.ndarray  # hippocampus + MTL regions (where lost tissue turns to CSF)
    csf_level: float  # template intensity of ventricular CSF
    gains: dict[str, np.ndarray] = field(default_factory=dict)
    changes: dict[str, np.ndarray] = field(default_factory=dict)  # relative volume change

    def gain_for(self, name: str, relative_change: float) -> float:
        """Field gain giving ``relative_change`` (-0.2 = 20 % smaller, +0.5 = 50 % larger)."""
        changes, gains = self.changes[name], self.gains[name]
        order = np.argsort(changes)
        return float(np.interp(relative_change, changes[order], gains[order]))


def _radial_field(region: np.ndarray, sigma: float, keep_out: np.ndarray) -> np.ndarray:
    weight = ndimage.gaussian_filter(region.astype(np.float32), sigma)
    weight /= max(float(weight.max()), 1e-6)
    # CSF spaces that enlarge on their own (temporal horns) are not pulled along
    weight *= 1.0 - np.clip(2.0 * ndimage.gaussian_filter(keep_out.astype(np.float32), 1.0), 0, 1)
    centre = np.array(ndimage.center_of_mass(region))
    grid = np.indices(region.shape, dtype=np.float32)
    return np.stack([weight * (grid[a] - centre[a]) for a in range(3)]).astype(np.float32)


def _wall_field(region: np.ndarray, sigma: float) -> np.ndarray:
    smooth = ndimage.gaussian_filter(region.astype(np.float32), sigma)
    grad = np.stack(np.gradient(smooth)).astype(np.float32)
    return grad / max(float(np.sqrt((grad**2).sum(axis=0)).max()), 1e-6)


def _warp(data: np.ndarray, coords: np.ndarray, order: int) -> np.ndarray:
    return ndimage.map_coordinates(data, coords, order=order, mode="constant", cval=0.0,
                                   prefilter=False)


@lru_cache(maxsize=2)
def atrophy_basis(template: BrainTemplate) -> AtrophyBasis:
    """Unit fields of every atrophy structure of ``template``, calibrated (cached, ~2 s)."""
    fields, indicators = {}, {}
    horns = np.isin(template.labels, ENLARGING["temporal_horn_left"] + ENLARGING["temporal_horn_right"])
    for name, codes in SHRINKING.items():
        region = np.isin(template.labels, codes)
        # radial field: q = p + g * w(p) (p - c) samples farther out -> shrink for g > 0
        fields[name] = _radial_field(region, sigma=1.5, keep_out=horns)
        indicators[name] = region.astype(np.float32)
    for name, codes in ENLARGING.items():
        region = np.isin(template.labels, codes)
        if not region.any():
            raise TrainingDataError(f"The brain template has no {name.replace('_', ' ')} region.")
        fields[name] = _wall_field(region, sigma=1.5)  # q = p + g grad: walls move out for g > 0
        indicators[name] = region.astype(np.float32)
    mtl = np.isin(template.labels, (1, 2, 3, 4)).astype(np.float32)
    csf = float(np.median(template.t1[template.labels == 5]))
    basis = AtrophyBasis(fields, indicators, mtl, csf)
    for name in fields:
        gains = np.linspace(0.0, 0.6, 7) if name in SHRINKING else np.linspace(0.0, 4.0, 9)
        gains = np.concatenate([-gains[:0:-1] / 3, gains])
        basis.gains[name] = gains
        basis.changes[name] = _volume_changes(indicators[name], fields[name], gains)
    return basis


def _volume_changes(indicator: np.ndarray, field_: np.ndarray, gains: np.ndarray,
                    margin: int = 8) -> np.ndarray:
    """Relative volume change of ``indicator`` warped by ``g * field_`` for each gain g
    (computed in the structure's box plus ``margin`` voxels, where all the change happens)."""
    coords = np.nonzero(indicator)
    box = tuple(slice(max(int(c.min()) - margin, 0), int(c.max()) + margin + 1) for c in coords)
    offset = np.array([b.start for b in box], np.float32)[:, None, None, None]
    local = np.indices(indicator[box].shape, dtype=np.float32) + offset
    base = indicator.sum()
    return np.array([_warp(indicator, local + g * field_[(slice(None), *box)], 1).sum() / base - 1.0
                     for g in gains])


# -- one synthetic brain ---------------------------------------------------------------------
@dataclass
class SyntheticBrain:
    """A synthetic model input with its ground truth.

    ``image`` is the normalised model input (float32, template grid), ``mask`` its brain mask,
    ``labels`` the warped region labels, ``atrophy_mask`` where the atrophy fields moved tissue by
    more than 0.5 mm (plus the atrophied structures themselves), ``figures`` the volume changes
    requested and measured (relative, e.g. -0.18 = 18 % smaller).
    """

    image: np.ndarray
    mask: np.ndarray
    labels: np.ndarray
    atrophy_mask: np.ndarray
    figures: dict[str, float]


def _rotation(angles_rad: np.ndarray) -> np.ndarray:
    out = np.eye(3)
    for axis, angle in enumerate(angles_rad):
        c, s = np.cos(angle), np.sin(angle)
        a, b = [i for i in range(3) if i != axis]
        rot = np.eye(3)
        rot[a, a], rot[a, b], rot[b, a], rot[b, b] = c, -s, s, c
        out = rot @ out
    return out


def _smooth_noise_field(shape: tuple[int, ...], rng: np.random.Generator, amplitude: float,
                        coarse: int = 5) -> np.ndarray:
    """Smooth random field (3, *shape): coarse noise spread by separable Gaussian weights."""
    noise = rng.standard_normal((3, coarse, coarse, coarse)).astype(np.float32)
    weights = [_spread_matrix(n, coarse) for n in shape]
    out = np.einsum("zi,yj,xk,cijk->czyx", *weights, noise, optimize=True)
    return (out * (amplitude / 2.5)).astype(np.float32)


def _spread_matrix(fine: int, coarse: int) -> np.ndarray:
    """(fine, coarse) row-normalised Gaussian weights from fine to coarse node positions."""
    nodes = (np.arange(coarse) + 0.5) * fine / coarse
    width = fine / coarse
    weights = np.exp(-0.5 * ((np.arange(fine)[:, None] + 0.5 - nodes[None, :]) / width) ** 2)
    weights /= np.sqrt((weights**2).sum(axis=1, keepdims=True))
    return weights.astype(np.float32)


def _positioning_coords(shape: tuple[int, ...], centre: np.ndarray, rng: np.random.Generator,
                        scale: float, spacing_mm: float) -> tuple[np.ndarray, dict[str, float]]:
    """Template coordinates of every output voxel: rotation, translation, size, shape noise."""
    angles = np.clip(rng.normal(0, 3.0, 3), -8, 8)
    shift_mm = np.clip(rng.normal(0, 2.0, 3), -6, 6)
    matrix = _rotation(np.deg2rad(angles)) / scale
    grid = np.indices(shape, dtype=np.float32).reshape(3, -1)
    coords = matrix @ (grid - centre[:, None]) + (centre + shift_mm / spacing_mm)[:, None]
    coords = coords.reshape(3, *shape).astype(np.float32)
    coords += _smooth_noise_field(shape, rng, amplitude=1.5)  # ~3 mm individual shape variation
    figures = {"rotation_max_deg": float(np.abs(angles).max()),
               "shift_max_mm": float(np.abs(shift_mm).max()), "size_scale": float(scale)}
    return coords, figures


def _atrophy_displacement(basis: AtrophyBasis, changes: dict[str, float]) -> np.ndarray:
    total = None
    for name, change in changes.items():
        if name not in basis.fields or change == 0:
            continue
        if name in _WITHIN:  # the hippocampus shrinks with its MTL region, then by the rest
            change = (1.0 + change) / (1.0 + changes.get(_WITHIN[name], 0.0)) - 1.0
        part = basis.gain_for(name, change) * basis.fields[name]
        total = part if total is None else total + part
    shape = next(iter(basis.fields.values())).shape
    return total if total is not None else np.zeros(shape, np.float32)


def _field_at(field_: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """A (3, ...) field or a scalar field sampled at ``coords``, only where it is not zero."""
    vector = field_.ndim == 4
    channels = field_ if vector else field_[None]
    support = np.abs(channels).max(axis=0) > 1e-3
    out = np.zeros((len(channels), *coords.shape[1:]), np.float32)
    if support.any():
        lo = np.array([c.min() for c in np.nonzero(support)]) - 2
        hi = np.array([c.max() for c in np.nonzero(support)]) + 2
        inside = np.all((coords >= lo[:, None, None, None]) & (coords <= hi[:, None, None, None]),
                        axis=0)
        points = coords[:, inside]
        for axis, channel in enumerate(channels):
            out[axis][inside] = _warp(channel, points, 1)
    return out if vector else out[0]


def _intensity_variation(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma, smooth multiplicative bias field (+-~15 %), blur and Gaussian noise."""
    ref = max(float(np.percentile(image[mask], 99)), 1e-6)
    out = (np.clip(image, 0, None) / ref) ** rng.uniform(0.85, 1.15)
    bias = _smooth_noise_field(image.shape, rng, amplitude=0.15, coarse=3)[0]
    out = out * np.exp(bias)
    blur = rng.uniform(0.0, 0.6)
    if blur > 0.1:
        out = ndimage.gaussian_filter(out, blur)
    out = out + rng.normal(0, rng.uniform(0.01, 0.04), out.shape)
    return out.astype(np.float32)


def synthesize_brain(
    template: BrainTemplate, changes: dict[str, float], rng: np.random.Generator,
    size_scale: float = 1.0,
) -> SyntheticBrain:
    """Deform the template by the requested relative volume changes (keys of SHRINKING/ENLARGING).

    ``changes`` e.g. ``{"hippocampus_left": -0.2, "ventricles": 0.4}``; ``size_scale`` is the
    linear brain size relative to the template.
    """
    basis = atrophy_basis(template)
    shape = template.mask.shape
    centre = template.bbox.mean(axis=1)
    coords, figures = _positioning_coords(shape, centre, rng, size_scale, template.spacing_mm)
    atrophy = _atrophy_displacement(basis, changes)
    moved = _field_at(atrophy, coords)
    final = coords + moved
    image = _warp(template.t1, final, 1)
    labels = _warp(template.labels, final, 0).astype(np.uint8)
    mask = labels > 0  # every brain voxel of the template has a region label
    # tissue lost from the hippocampus/MTL regions becomes CSF (widened fissures and horns)
    lost = np.clip(_field_at(basis.mtl_indicator, coords) - _field_at(basis.mtl_indicator, final), 0, 1)
    image = image * (1.0 - lost) + basis.csf_level * lost
    displacement_mm = np.sqrt((moved**2).sum(axis=0)) * template.spacing_mm
    atrophy_mask = mask & ((displacement_mm > 0.5) | (lost > 0.25) | np.isin(labels, ATROPHY_REGIONS))
    image = normalise_in_mask(_intensity_variation(image, mask, rng), mask)
    for name, change in changes.items():
        figures[f"requested_{name}"] = float(change)
    measured = _measured_changes(template, labels, size_scale)
    figures.update(measured)
    return SyntheticBrain(image, mask, labels, atrophy_mask, figures)


def _measured_changes(template: BrainTemplate, labels: np.ndarray, size_scale: float) -> dict[str, float]:
    """Relative volume change of each atrophy structure, corrected for the brain-size scale."""
    out = {}
    groups = {**SHRINKING, **ENLARGING}
    for name, codes in groups.items():
        before = np.isin(template.labels, codes).sum()
        after = np.isin(labels, codes).sum() / size_scale**3
        out[f"measured_{name}"] = float(after / max(before, 1) - 1.0)
    return out


def main(argv: list[str] | None = None) -> int:
    """Rebuild the bundled template from a T1 DICOM series folder (developer tool)."""
    import argparse

    from stethoscan.training.mci_dataset import load_volume_any

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("series", type=Path)
    parser.add_argument("--out", type=Path, default=default_template_path())
    args = parser.parse_args(argv)
    volume, hints = load_volume_any(args.series)
    template = build_template(volume, hints.get("description") or "T1")
    template.source = ("studyforrest 7 T T1w (Hanke et al. 2014, Sci Data 1:140003), PDDL; "
                       "preprocessed by stethoscan.imaging.brain_preprocessing")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_template(template, args.out)
    print(f"template written to {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
