"""Patients, studies and series; splitting series that hold several volumes."""

from __future__ import annotations

from pathlib import Path

import pytest
from dicom_factory import SAGITTAL, write_enhanced_mr, write_multi_echo_series, write_series
from pydicom.uid import generate_uid

from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.series_geometry import FrameAttributes
from stethoscan.imaging.series_grouping import ImageHeader, build_patients, split_series

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def _header(k: int, z: float, **fields) -> ImageHeader:
    geometry = FrameAttributes(position_mm=(0.0, 0.0, z), orientation=AXIAL,
                               pixel_spacing_mm=(1.0, 1.0))
    for name in ("echo_time_ms", "temporal_index", "stack_id", "b_value"):
        if name in fields:
            setattr(geometry, name, fields.pop(name))
    values = dict(path=f"/x/{k}.dcm", sop_instance_uid=f"1.2.{k}", study_uid="1.2.1",
                  series_uid="1.2.2", rows=8, columns=8, instance_number=k + 1)
    values.update(fields)
    return ImageHeader(**values, geometry=geometry)


def test_mixed_orientations_are_split_with_a_reason(tmp_path: Path):
    uid, study = generate_uid(), generate_uid()
    write_series(tmp_path, n_slices=5, series_uid=uid, study_uid=study, name_prefix="AX")
    write_series(tmp_path, n_slices=3, series_uid=uid, study_uid=study, name_prefix="SAG",
                 orientation=SAGITTAL)
    parts = index_paths([tmp_path]).all_series()
    assert [p.series_uid for p in parts] == [f"{uid}.1", f"{uid}.2"]
    assert [p.number_of_slices for p in parts] == [5, 3]
    assert [p.split_label for p in parts] == ["axial images", "sagittal images"]
    assert all(p.original_series_uid == uid for p in parts)
    assert parts[0].split_reason == ("The original series mixes orientations; this part holds "
                                     "axial images.")
    assert all(p.warnings == [] for p in parts)


def test_multi_echo_series_is_split_per_echo(tmp_path: Path):
    write_multi_echo_series(tmp_path, n_slices=6, echo_times_ms=(10.0, 30.0))
    parts = index_paths([tmp_path]).all_series()
    assert [p.number_of_slices for p in parts] == [6, 6]
    assert [p.split_label for p in parts] == ["echo 1 (TE 10 ms)", "echo 2 (TE 30 ms)"]
    assert "mixes echoes" in parts[1].split_reason
    assert all(p.slice_spacing_mm == pytest.approx(3.0) and not p.warnings for p in parts)


def test_enhanced_multi_echo_file_is_split_by_echo(tmp_path: Path):
    write_enhanced_mr(tmp_path / "e.dcm", n_slices=5, echo_times_ms=(8.0, 16.0, 24.0))
    parts = index_paths([tmp_path]).all_series()
    assert [p.number_of_slices for p in parts] == [5, 5, 5]
    assert [p.split_label for p in parts] == ["TE 8 ms", "TE 16 ms", "TE 24 ms"]
    assert all(p.number_of_instances == 1 for p in parts)


def test_image_sizes_are_split(tmp_path: Path):
    uid, study = generate_uid(), generate_uid()
    write_series(tmp_path, n_slices=4, rows=16, cols=16, series_uid=uid, study_uid=study)
    write_series(tmp_path, n_slices=2, rows=8, cols=12, series_uid=uid, study_uid=study,
                 name_prefix="SMALL", origin=(0, 0, 50))
    parts = index_paths([tmp_path]).all_series()
    assert sorted((p.rows, p.columns, p.number_of_slices) for p in parts) == [(8, 12, 2),
                                                                            (16, 16, 4)]
    assert all("mixes image sizes" in p.split_reason for p in parts)


def test_time_points_are_split():
    headers = [_header(k + 10 * t, z=k * 2.0, temporal_index=t + 1)
               for t in range(3) for k in range(4)]
    parts = split_series(headers)
    assert [p.split_label for p in parts] == ["time point 1", "time point 2", "time point 3"]
    assert all(p.number_of_slices == 4 and p.slice_spacing_mm == 2.0 for p in parts)


def test_repeated_acquisitions_at_the_same_positions_are_split_by_acquisition():
    headers = [_header(k + 10 * a, z=k * 2.0, acquisition_number=a + 1)
               for a in range(2) for k in range(5)]
    parts = split_series(headers)
    assert [p.split_label for p in parts] == ["acquisition 1", "acquisition 2"]
    assert all(p.number_of_slices == 5 and not p.warnings for p in parts)


def test_one_acquisition_number_per_slice_does_not_split():
    headers = [_header(k, z=k * 2.0, acquisition_number=k + 1) for k in range(6)]
    [series] = split_series(headers)
    assert series.number_of_slices == 6 and series.split_reason == ""


def test_repeats_without_a_distinguishing_tag_are_split_in_order():
    headers = [_header(k, z=float(k % 3) * 2.0) for k in range(7)]  # 3 positions, 7 images
    parts = split_series(headers)
    assert [p.number_of_slices for p in parts] == [3, 3, 1]
    assert parts[1].split_reason == ("The original series mixes slices repeated at the same "
                                     "positions; this part holds copy 2 of each position.")
    assert parts[2].warnings == ["A single image: shown in 2D only (no three-plane views)."]


def test_diffusion_b_values_are_split():
    headers = [_header(k + 10 * b, z=k * 1.0, b_value=(0.0, 1000.0)[b])
               for b in range(2) for k in range(3)]
    assert [p.split_label for p in split_series(headers)] == ["b = 0 s/mm²", "b = 1000 s/mm²"]


def test_patients_and_studies_are_grouped_and_sorted():
    headers = [
        _header(0, 0.0, patient_id="P2", patient_name="Beta^B", study_uid="S3", series_uid="A"),
        _header(1, 0.0, patient_id="P1", patient_name="Alpha^A", study_uid="S1", series_uid="B",
                study_date="20240301", series_number=2),
        _header(2, 0.0, patient_id="P1", patient_name="Alpha^A", study_uid="S1", series_uid="C",
                study_date="20240301", series_number=1),
        _header(3, 0.0, patient_id="P1", patient_name="Alpha^A", study_uid="S2", series_uid="D",
                study_date="20230101"),
    ]
    patients = build_patients(headers)
    assert [p.patient_id for p in patients] == ["P1", "P2"]
    assert [s.study_uid for s in patients[0].studies] == ["S2", "S1"]
    assert [s.series_uid for s in patients[0].studies[1].series] == ["C", "B"]
