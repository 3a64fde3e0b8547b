"""Brain preprocessing: orientation from the DICOM geometry, mask, checks, mapping back."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.core.errors import InputMismatchError, SeriesGeometryError
from stethoscan.imaging import brain_preprocessing as bp
from stethoscan.imaging.volume import Volume


def _phantom_world(points_lps: np.ndarray, t1_like: bool = True) -> np.ndarray:
    """Intensity of a head phantom at LPS points (mm): scalp, skull, cortex, white matter,
    ventricles, and a bright marker at the patient's left-anterior-superior brain."""
    x, y, z = points_lps[..., 0], points_lps[..., 1], points_lps[..., 2]
    r = np.sqrt((x / 65) ** 2 + (y / 80) ** 2 + (z / 55) ** 2)
    ventricles = np.sqrt((x / 18) ** 2 + (y / 30) ** 2 + ((z - 10) / 12) ** 2) < 1
    wm, csf, gm = (110.0, 20.0, 70.0) if t1_like else (40.0, 140.0, 75.0)
    out = np.zeros(r.shape, np.float32)
    out[r < 1.32] = 90.0  # scalp
    out[r < 1.2] = 5.0  # skull
    out[r < 1.1] = csf  # CSF around the brain
    out[r < 1.0] = gm  # cortex
    out[r < 0.85] = wm
    out[ventricles] = csf
    marker = np.sqrt((x - 40) ** 2 + (y + 40) ** 2 + (z - 30) ** 2) < 5
    out[marker] = 160.0 if t1_like else 10.0
    return out


def make_phantom(direction: np.ndarray, spacing=(2.5, 2.0, 2.0), shape=(70, 120, 100),
                 t1_like: bool = True, modality: str = "MR") -> Volume:
    """A phantom volume sampled on a grid with the given direction (columns i, j, k in LPS)."""
    direction = np.asarray(direction, float)
    extent = np.array([shape[2] * spacing[2], shape[1] * spacing[1], shape[0] * spacing[0]])
    origin = -direction @ (extent / 2)
    k, j, i = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    ijk_mm = np.stack([i * spacing[2], j * spacing[1], k * spacing[0]], axis=-1)
    world = ijk_mm @ direction.T + origin
    rng = np.random.default_rng(0)
    voxels = _phantom_world(world, t1_like) + rng.normal(0, 2, shape).astype(np.float32)
    return Volume(voxels=np.clip(voxels, 0, None).astype(np.int16), spacing_mm=spacing,
                  origin_mm=tuple(origin), direction=direction, modality=modality)


AXIAL = np.eye(3)


def _tilted(angle_deg: float) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


@pytest.mark.parametrize("direction", [AXIAL, np.array([[0, 1, 0], [0, 0, -1], [-1, 0, 0]], float),
                                       _tilted(12.0)], ids=["axial", "sagittal", "oblique"])
def test_marker_lands_at_its_patient_position_in_the_canonical_grid(direction):
    volume = make_phantom(direction)
    canonical, mapping = bp.resample_canonical(volume)
    assert np.allclose(canonical.direction, np.eye(3))
    peak = np.array(np.unravel_index(np.argmax(canonical.voxels), canonical.shape))  # (z, y, x)
    world = np.asarray(canonical.origin_mm) + 2.0 * peak[::-1]
    assert np.linalg.norm(world - np.array([40, -40, 30])) < 5.0  # left, anterior, superior
    back = mapping.to_original_index(mapping.to_canonical_index(np.array([[10.0, 20.0, 30.0]])))
    assert np.allclose(back, [[10, 20, 30]], atol=1e-6)


def test_preprocessing_finds_the_brain_and_maps_overlays_back():
    volume = make_phantom(_tilted(8.0))
    result = bp.preprocess_brain(volume, description="T1 MPRAGE")
    brain_ml = 4 / 3 * np.pi * 65 * 80 * 55 / 1000  # 1198 mL inside the cortex surface
    assert 0.9 * brain_ml < result.checks["brain_volume_ml"] < 1.1**3 * brain_ml  # + outer CSF
    assert result.checks["t1_contrast_ratio"] > 1.2
    assert result.model_input.shape == bp.TARGET_SHAPE
    inside = result.model_input[result.box_mask]
    assert abs(np.median(inside)) < 0.2 and np.all(result.model_input[~result.box_mask] == 0)
    overlays = result.overlays()
    mask = overlays["brain_mask"]["data"]
    assert mask.shape == volume.shape and overlays["brain_mask"]["kind"] == "mask"
    voxel_ml = np.prod(volume.spacing_mm) / 1000
    assert abs(mask.sum() * voxel_ml / result.checks["brain_volume_ml"] - 1) < 0.08
    assert mask[tuple(np.array(volume.shape) // 2)] == 1  # the centre of the head is brain
    assert mask[0, 0, 0] == 0


def test_t2_like_contrast_is_refused():
    volume = make_phantom(AXIAL, t1_like=False)
    with pytest.raises(InputMismatchError, match="not T1-like"):
        bp.preprocess_brain(volume)


@pytest.mark.parametrize("kwargs, message", [
    ({"modality": "CT", "n_slices": 200}, "not MR"),
    ({"modality": "MR", "n_slices": 200, "description": "AX T2 FLAIR"}, "not T1-weighted"),
    ({"modality": "MR", "n_slices": 200, "body_part": "KNEE"}, "not head or brain"),
    ({"modality": "MR", "n_slices": 12}, "only 12 slices"),
])
def test_header_checks_refuse_with_a_reason(kwargs, message):
    with pytest.raises(InputMismatchError, match=message):
        bp.check_series(**kwargs)


def test_t1_description_passes_and_unknown_description_warns():
    assert bp.check_series("MR", 176, "sag MPRAGE T1") == []
    assert any("does not say T1" in w for w in bp.check_series("MR", 176, "anat"))


def test_small_object_is_not_a_brain():
    shape = (60, 80, 80)
    voxels = np.zeros(shape, np.int16)
    zz, yy, xx = np.indices(shape)
    voxels[((zz - 30) / 20) ** 2 + ((yy - 40) / 25) ** 2 + ((xx - 40) / 25) ** 2 < 1] = 100
    volume = Volume(voxels=voxels, spacing_mm=(1.0, 1.0, 1.0), modality="MR")
    with pytest.raises(InputMismatchError, match="brain-sized"):
        bp.preprocess_brain(volume)


def test_degenerate_orientation_is_a_geometry_error():
    volume = make_phantom(AXIAL, shape=(50, 60, 60))
    volume.direction = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1]], float)
    with pytest.raises(SeriesGeometryError):
        bp.resample_canonical(volume)


@pytest.mark.real_data
def test_real_t1_mask_and_orientation(shared_data):
    from stethoscan.training.mci_dataset import load_volume_any

    volume, hints = load_volume_any(shared_data / "brain-t1-dicom")
    result = bp.preprocess_brain(volume, **hints)
    figures = result.checks
    assert 900 < figures["brain_volume_ml"] < 1800
    # a brain is longer front-to-back than it is wide, and taller than 100 mm
    assert figures["brain_extent_ap_mm"] > figures["brain_extent_lr_mm"] > 100
    assert 110 < figures["brain_extent_si_mm"] < 160
    # the series includes the neck: the brain sits in the upper part of the canonical grid
    z_centre = np.nonzero(result.mask)[0].mean()
    assert z_centre > 0.5 * result.mask.shape[0]
    # the two hemispheres are about the same size (left/right not confused with another axis)
    xs = np.nonzero(result.mask)[2]
    mid = (xs.min() + xs.max()) / 2
    assert 0.85 < (xs < mid).sum() / (xs >= mid).sum() < 1.15
    assert figures["mask_outside_box_fraction"] < 0.02
