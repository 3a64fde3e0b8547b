"""Saliency regions in words, model-grid mapping, and input checks against a manifest."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.core.errors import InputMismatchError
from stethoscan.inference.saliency.regions import describe_regions, find_regions
from stethoscan.workflows.model_input_checks import (
    ScanHints,
    check_body_part,
    check_modality,
    check_recording,
    check_spacing,
)
from stethoscan.workflows.model_input_grid import fit_to_model_grid, resize_linear


def test_spectrogram_region_in_seconds_and_hz():
    saliency = np.zeros((32, 100), np.float32)
    saliency[10:14, 32:40] = 1.0
    axes = {"times_s": np.arange(100) * 0.1, "frequencies_hz": np.linspace(50, 2000, 32)}
    assert describe_regions(saliency, "spectrogram", axes) == ["3.20-3.90 s, 679-868 Hz"]


def test_volume_region_with_atlas_name_and_strongest_first():
    saliency = np.zeros((60, 40, 40), np.float32)
    saliency[39:52, 10:15, 30:35] = 1.0
    saliency[5:8, 30:33, 5:8] = 0.7
    names = describe_regions(saliency, "volume", region_namer=lambda c: "left hippocampus region"
                             if c[2] > 20 else None)  # fmt: skip
    assert names[0] == "left hippocampus region, slices 40-52, rows 11-15, columns 31-35"
    assert names[1] == "slices 6-8, rows 31-33, columns 6-8"


def test_image_region_position_in_words():
    saliency = np.zeros((90, 90), np.float32)
    saliency[5:20, 60:80] = 1.0
    assert describe_regions(saliency, "image") == [
        "upper right of the image, rows 6-20, columns 61-80"
    ]


def test_large_maps_are_searched_coarsely_but_reported_on_the_full_grid():
    saliency = np.zeros((200, 200, 200), np.float32)
    saliency[100:120, 50:60, 10:30] = 1.0
    (region,) = find_regions(saliency)
    for (low, high), (want_low, want_high) in zip(region.ranges, [(100, 119), (50, 59), (10, 29)], strict=True):  # fmt: skip
        assert abs(low - want_low) <= 3 and abs(high - want_high) <= 3


def test_empty_map_has_no_regions():
    assert describe_regions(np.zeros((8, 8)), "image") == []


def test_model_grid_round_trip_keeps_the_place_of_a_finding():
    volume = np.zeros((120, 100, 80), np.float32)
    volume[60:70, 40:50, 30:40] = 1.0
    grid, mapping = fit_to_model_grid(volume, (1.0, 1.0, 1.0), (2.0, 2.0, 2.0), (48, 48, 48))
    assert grid.shape == (48, 48, 48)
    back = mapping.to_original(grid)
    assert back.shape == volume.shape
    peak = np.unravel_index(np.argmax(back), back.shape)
    assert 60 <= peak[0] < 70 and 40 <= peak[1] < 50 and 30 <= peak[2] < 40


def test_resize_linear_matches_scipy_zoom():
    from scipy import ndimage

    small = np.random.default_rng(0).random((6, 7, 5)).astype(np.float32)
    ours = resize_linear(small, (24, 21, 20))
    theirs = ndimage.zoom(small, (4, 3, 4), order=1, grid_mode=True, mode="nearest")
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_modality_mismatch_is_refused():
    check_modality("MR", ["MR"], "m")
    with pytest.raises(InputMismatchError, match="made for CT scans, but this series is MR"):
        check_modality("MR", ["CT"], "m")


def test_body_part_mismatch_is_a_warning():
    assert check_body_part(ScanHints("MR", "HEAD", ""), ["HEAD", "BRAIN"]) == []
    assert check_body_part(ScanHints("MR", "", "MPRAGE brain"), ["BRAIN"]) == []
    (warning,) = check_body_part(ScanHints("CT", "CHEST", ""), ["HEAD"])
    assert "'CHEST'" in warning and "head" in warning


def test_spacing_checks():
    assert check_spacing((1.0, 1.0, 1.0), (1.5, 1.5, 1.5)) == []
    assert "coarser" in check_spacing((5.0, 1.0, 1.0), (1.5, 1.5, 1.5))[0]
    with pytest.raises(InputMismatchError, match="cannot be resampled sensibly"):
        check_spacing((15.0, 1.0, 1.0), (1.5, 1.5, 1.5))


def test_recording_checks():
    assert check_recording(3.0, 8000, 1.0, 4000, 4000, 2000) == []
    with pytest.raises(InputMismatchError, match="needs at least 1.0 s"):
        check_recording(0.5, 8000, 1.0, None, 4000, 2000)
    assert any("upsampled" in w for w in check_recording(3.0, 3000, 1.0, None, 4000, 1400))
