"""Slice order along the normal, spacing from positions, and the geometry warnings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_factory import (
    CORONAL,
    SAGITTAL,
    make_image,
    save,
    write_enhanced_mr,
    write_series,
)

from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.model import InstanceRef
from stethoscan.imaging.series_geometry import (
    describe_spacing,
    order_slices,
    orientation_label,
    plane_name,
    slice_normal,
    tilt_angle_deg,
)


def _one_series(folder: Path):
    [series] = index_paths([folder]).all_series()
    return series


def _along_normal(series) -> np.ndarray:
    normal = slice_normal(series.orientation)
    return np.array([i.position_mm for i in series.instances]) @ normal


@pytest.mark.parametrize("orientation", [None, CORONAL, SAGITTAL])
def test_shuffled_instance_numbers_and_names_are_ordered_by_position(tmp_path, orientation):
    kwargs = {"orientation": orientation} if orientation else {}
    spatial = write_series(tmp_path, n_slices=12, shuffle=True, spacing_mm=1.5, **kwargs)
    series = _one_series(tmp_path)
    assert [Path(i.path) for i in series.instances] == spatial
    numbers = [i.instance_number for i in series.instances]
    assert numbers != sorted(numbers), "the test needs instance numbers out of spatial order"
    assert np.all(np.diff(_along_normal(series)) == pytest.approx(1.5))
    assert series.slice_spacing_mm == pytest.approx(1.5)
    assert series.warnings == []


def test_pixels_of_ordered_slices_follow_the_positions(tmp_path):
    """Slice k of the factory holds 10 * k: reading in index order gives 0, 10, 20, ..."""
    write_series(tmp_path, n_slices=6, shuffle=True, seed=7)
    series = _one_series(tmp_path)
    firsts = [int(pydicom.dcmread(i.path).pixel_array[0, 0]) for i in series.instances]
    assert firsts == [10 * k for k in range(6)]


def test_gantry_tilt_is_reported_with_its_angle(tmp_path):
    write_series(tmp_path, n_slices=10, tilt_deg=15.0, spacing_mm=2.0)
    series = _one_series(tmp_path)
    [warning] = series.warnings
    assert warning.startswith("Gantry tilt of 15.0°")
    # planes are 2 mm apart along z, i.e. 2 cos(15°) mm apart along their normal
    assert series.slice_spacing_mm == pytest.approx(2.0 * np.cos(np.radians(15.0)))


def test_missing_slice_is_reported_with_its_index(tmp_path):
    write_series(tmp_path, n_slices=12, missing=[5], spacing_mm=2.5)
    series = _one_series(tmp_path)
    assert series.number_of_slices == 11 and series.slice_spacing_mm == pytest.approx(2.5)
    [warning] = series.warnings
    assert warning.startswith("Missing slices between slice 5 and 6: a gap of 5.00 mm")
    assert "about 1 slice missing" in warning


def test_uneven_spacing_is_reported(tmp_path):
    write_series(tmp_path, offsets_mm=[0, 2, 4, 6.6, 8, 10, 12, 14])
    series = _one_series(tmp_path)
    [warning] = series.warnings
    assert warning.startswith("Uneven slice spacing: steps from 1.40 to 2.60 mm")


def test_even_spacing_with_rounded_positions_gives_no_warning(tmp_path):
    write_series(tmp_path, offsets_mm=[k * 0.333333 for k in range(9)])  # DS rounding
    assert _one_series(tmp_path).warnings == []


def test_single_slice_is_2d_only(tmp_path):
    write_series(tmp_path, n_slices=1)
    series = _one_series(tmp_path)
    assert series.slice_spacing_mm is None
    assert series.warnings == ["A single image: shown in 2D only (no three-plane views)."]


def test_no_geometry_falls_back_to_instance_numbers(tmp_path):
    for number in (3, 1, 2):
        ds = make_image(position=None, orientation=None, instance_number=number,
                        series_uid="1.2.3.9", study_uid="1.2.3.8")
        save(ds, tmp_path / f"x{4 - number}.dcm")
    series = _one_series(tmp_path)
    assert [i.instance_number for i in series.instances] == [1, 2, 3]
    assert series.slice_spacing_mm is None
    [warning] = series.warnings
    assert "No slice positions" in warning and "instance-number order" in warning


def test_enhanced_multiframe_gets_one_instance_per_frame_in_space(tmp_path):
    path = write_enhanced_mr(tmp_path / "enhanced.dcm", n_slices=8, spacing_mm=2.5,
                             orientation=CORONAL, pixel_spacing=(0.8, 0.7))
    series = _one_series(tmp_path)
    assert series.number_of_slices == 8 and series.number_of_instances == 1
    assert {i.path for i in series.instances} == {str(path)}
    assert series.pixel_spacing_mm == pytest.approx((0.8, 0.7))
    assert series.orientation == pytest.approx(CORONAL)
    assert series.slice_spacing_mm == pytest.approx(2.5) and series.warnings == []
    frames = [i.frame for i in series.instances]
    assert sorted(frames) == list(range(8)) and frames != list(range(8))  # stored scrambled
    pixels = pydicom.dcmread(path).pixel_array
    assert [int(pixels[f, 0, 0]) for f in frames] == [10 * k for k in range(8)]
    assert all(i.number_of_frames == 8 for i in series.instances)


def test_rt_dose_frames_are_placed_by_the_grid_frame_offsets():
    from pydicom.data import get_testdata_file

    path = get_testdata_file("rtdose.dcm")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    [series] = index_paths([path]).all_series()
    offsets = [float(v) for v in ds.GridFrameOffsetVector]
    along = _along_normal(series) - _along_normal(series)[0]
    assert along == pytest.approx(sorted(np.asarray(offsets) - min(offsets)), abs=1e-6)


def test_describe_spacing_words_gaps_duplicates_and_unevenness():
    spacing, warnings = describe_spacing(np.array([1.0, 1.0, 3.0, 1.0, 0.0]))
    assert spacing == 1.0
    assert any("between slice 3 and 4" in w and "about 2 slices" in w for w in warnings)
    assert any("same position" in w for w in warnings)
    assert describe_spacing(np.array([1.0, 1.005, 0.995])) == (pytest.approx(1.0), [])


def test_tilt_angle_and_plane_names():
    normal = np.array([0.0, 0.0, 1.0])
    assert tilt_angle_deg(np.zeros(3), np.array([0.0, 1.0, 1.0]), normal) == pytest.approx(45.0)
    assert tilt_angle_deg(np.zeros(3), np.zeros(3), normal) is None
    assert plane_name((1, 0, 0, 0, 1, 0)) == "axial"
    assert plane_name(CORONAL) == "coronal" and plane_name(SAGITTAL) == "sagittal"
    assert plane_name((1, 0, 0, 0, 0.5, 0.866)) == "coronal"  # normal (0, -0.87, 0.5)
    assert plane_name((1, 0, 0, 0, 0.7071, 0.7071)) == "oblique"  # halfway: no main plane
    assert orientation_label((1, 0, 0, 0, 0.9659258, 0.2588190)) == "axial images tilted 15°"


def test_order_slices_with_no_instances_and_equal_positions():
    assert order_slices([]).instances == []
    same = [InstanceRef(path=f"{k}", sop_instance_uid=f"{k}", instance_number=k,
                        position_mm=(0.0, 0.0, 0.0), orientation=(1, 0, 0, 0, 1, 0))
            for k in (2, 1)]
    geometry = order_slices(same)
    assert [i.instance_number for i in geometry.instances] == [1, 2]
    assert geometry.slice_spacing_mm is None and "same position" in geometry.warnings[0]
