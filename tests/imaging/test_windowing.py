"""Window presets, automatic windows and the DICOM linear window function."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.core.errors import ValidationError
from stethoscan.imaging.windowing import (
    CT_PRESETS,
    apply_window,
    auto_window,
    find_preset,
    linear_window,
    presets_for,
)


def test_ct_presets_cover_the_clinical_windows():
    expected = {"brain": (40, 80), "subdural": (75, 215), "stroke": (32, 8),
                "lung": (-600, 1500), "mediastinum": (50, 350), "bone": (400, 1800),
                "abdomen": (40, 400), "liver": (60, 160)}
    for name, (center, width) in expected.items():
        preset = CT_PRESETS[name]
        assert (preset.center, preset.width) == (center, width), name
    assert presets_for("ct").keys() == CT_PRESETS.keys()
    assert presets_for("MR") == {} and presets_for("US") == {}


def test_unknown_preset_names_the_choices():
    assert find_preset("Lung").center == -600
    with pytest.raises(ValidationError, match="mediastinum"):
        find_preset("kidney")


def test_linear_window_follows_ps3_3_c_11_2_1_2():
    c, w = 40.0, 80.0
    low_edge = c - 0.5 - (w - 1) / 2  # at or below: black
    high_edge = c - 0.5 + (w - 1) / 2  # above: white
    y = linear_window(np.array([low_edge, low_edge + 1e-6, c - 0.5, high_edge, high_edge + 0.01]),
                      c, w)
    assert y[0] == 0.0 and y[1] == pytest.approx(0.0, abs=1e-3)
    assert y[2] == pytest.approx(127.5)
    assert y[3] == pytest.approx(255.0)
    assert y[4] == 255.0
    step = linear_window(np.array([31.4, 31.6]), 32.0, 1.0)  # width 1: a step at c - 0.5
    assert list(step) == [0.0, 255.0]


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
def test_lookup_table_path_equals_direct_formula(dtype):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype)
    stored = rng.integers(info.min, info.max, size=(64, 80), endpoint=True).astype(dtype)
    slope, intercept, center, width = 0.5, -100.0, 10.0, 150.0
    fast = apply_window(stored, center, width, slope, intercept)
    direct = np.floor(linear_window(stored * slope + intercept, center, width) + 0.5)
    assert fast.dtype == np.uint8
    np.testing.assert_array_equal(fast, direct.astype(np.uint8))
    inverted = apply_window(stored, center, width, slope, intercept, invert=True)
    np.testing.assert_array_equal(inverted, 255 - fast)


def test_float_and_strided_inputs():
    values = np.linspace(-1000, 1000, 401, dtype=np.float32).reshape(1, -1)
    grey = apply_window(values, 0.0, 400.0)
    assert grey[0, 0] == 0 and grey[0, -1] == 255 and grey[0, 200] in (127, 128)
    volume = np.arange(4 * 6 * 8, dtype=np.int16).reshape(4, 6, 8)
    coronal = volume[::-1, 2, :]  # a strided, flipped view as the MPR produces
    np.testing.assert_array_equal(apply_window(coronal, 100, 200),
                                  apply_window(np.ascontiguousarray(coronal), 100, 200))


def test_auto_window_ignores_a_large_background():
    rng = np.random.default_rng(2)
    image = np.zeros((200, 200), dtype=np.int16)
    image[50:150, 50:150] = rng.integers(100, 201, size=(100, 100))  # 25 % tissue, 75 % air
    center, width = auto_window(image)
    assert 140 < center < 160 and 90 < width < 110
    center2, width2 = auto_window(image, slope=2.0, intercept=-10.0)
    assert center2 == pytest.approx(2 * center - 10) and width2 == pytest.approx(2 * width)
    assert auto_window(np.full((4, 4), 7, dtype=np.int16))[1] >= 1.0
