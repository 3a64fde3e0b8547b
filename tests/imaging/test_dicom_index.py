"""Header indexing: bad files get specific reasons, nothing crashes, progress and cancel work."""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import make_image, save, write_series
from pydicom.dataset import FileMetaDataset

from stethoscan.core.errors import Cancelled
from stethoscan.core.log_setup import REDACTED, redact
from stethoscan.core.task import SilentTask
from stethoscan.imaging.dicom_index import index_paths, read_image_headers
from stethoscan.imaging.series_geometry import slice_normal


def _reasons(index) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in index.skipped}


def test_bad_files_in_a_folder_are_listed_and_the_rest_loads(tmp_path: Path):
    good = write_series(tmp_path, n_slices=6)
    (tmp_path / "notes.txt").write_text("Patient called back on Monday.\n")
    data = good[0].read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[: len(data) - 100])
    for cut in (150, 200, 400, 600, 800):
        (tmp_path / f"header-cut-{cut}.dcm").write_bytes(data[:cut])
    garbage = np.random.default_rng(0).bytes(400)
    (tmp_path / "corrupt.dcm").write_bytes(data[:132] + garbage)
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    no_rows = make_image()
    del no_rows.Rows
    save(no_rows, tmp_path / "no-rows.dcm")
    index = index_paths([tmp_path])
    [series] = index.all_series()
    assert series.number_of_slices == 6
    reasons = _reasons(index)
    assert set(reasons) == {"notes.txt", "truncated.dcm", "corrupt.dcm", "empty.dcm",
                            "picture.png", "no-rows.dcm", *(f"header-cut-{c}.dcm"
                                                             for c in (150, 200, 400, 600, 800))}
    assert "text file" in reasons["notes.txt"]
    assert reasons["truncated.dcm"].startswith("Truncated DICOM file: the pixel data stops")
    for cut in (150, 200, 400, 600, 800):
        assert reasons[f"header-cut-{cut}.dcm"].startswith("Truncated DICOM file: the header")
    assert reasons["corrupt.dcm"].startswith("Damaged DICOM file")
    assert "Empty file" in reasons["empty.dcm"]
    assert "PNG picture" in reasons["picture.png"]
    assert "Missing required DICOM attributes" in reasons["no-rows.dcm"]
    assert "Rows" in reasons["no-rows.dcm"]


def test_objects_without_pixels_are_not_images(tmp_path: Path):
    sr = make_image()
    sr.SOPClassUID = sr.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"
    del sr.PixelData
    save(sr, tmp_path / "report.dcm")
    state = make_image()
    state.SOPClassUID = state.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.11.1"
    del state.PixelData
    save(state, tmp_path / "state.dcm")
    reasons = _reasons(index_paths([tmp_path]))
    assert reasons["report.dcm"] == ("Not an image: a structured report (Basic Text SR), with "
                                     "no pixel data.")
    assert "presentation state" in reasons["state.dcm"]


def test_copies_of_the_same_instance_are_loaded_once(tmp_path: Path):
    files = write_series(tmp_path / "a", n_slices=3)
    (tmp_path / "b").mkdir()
    shutil.copy(files[1], tmp_path / "b" / "copy.dcm")
    index = index_paths([tmp_path])
    assert index.all_series()[0].number_of_slices == 3
    [copy] = index.skipped
    assert copy.path.endswith("copy.dcm") and f"Duplicate of {files[1].name}" in copy.reason


def test_file_without_preamble_is_read(tmp_path: Path):
    """Old ACR-NEMA style files: a bare implicit-VR data set, no preamble, no file meta."""
    ds = make_image(rows=8, cols=8)
    ds.file_meta = FileMetaDataset()
    raw = tmp_path / "raw.dcm"
    ds.save_as(raw, implicit_vr=True, little_endian=True, enforce_file_format=False)
    headers = read_image_headers(raw)
    assert isinstance(headers, list) and headers[0].rows == 8
    assert headers[0].transfer_syntax_uid == "1.2.840.10008.1.2"


def test_missing_series_uid_becomes_a_series_of_its_own(tmp_path: Path):
    ds = make_image()
    del ds.SeriesInstanceUID
    save(ds, tmp_path / "orphan.dcm")
    [series] = index_paths([tmp_path]).all_series()
    [again] = index_paths([tmp_path]).all_series()
    assert series.series_uid == again.series_uid != ds.StudyInstanceUID  # stable across runs
    assert any("no Series Instance UID" in w for w in series.warnings)


def test_progress_reaches_the_end_and_only_grows(tmp_path: Path):
    write_series(tmp_path, n_slices=70)

    class Recording(SilentTask):
        def __init__(self):
            super().__init__()
            self.seen: list[float] = []

        def progress(self, fraction, message=""):
            super().progress(fraction, message)
            self.seen.append(fraction)

    task = Recording()
    index_paths([tmp_path], task)
    assert task.seen[-1] == 1.0 and len(task.seen) >= 4
    assert all(b >= a for a, b in zip(task.seen, task.seen[1:], strict=False))


def test_cancel_stops_indexing(tmp_path: Path):
    write_series(tmp_path, n_slices=70)

    class CancelAfterFirstBatch(SilentTask):
        def progress(self, fraction, message=""):
            super().progress(fraction, message)
            if "file headers" in message:
                self.cancel()

    with pytest.raises(Cancelled):
        index_paths([tmp_path], CancelAfterFirstBatch())


def test_patient_identifiers_are_registered_and_never_logged(tmp_path: Path, caplog):
    write_series(tmp_path, n_slices=2, patient_name="Zyxwvut^Qponml", patient_id="PID-998877")
    with caplog.at_level(logging.DEBUG):
        index_paths([tmp_path])
    assert redact("seen Zyxwvut^Qponml / PID-998877") == f"seen {REDACTED} / {REDACTED}"
    assert "Zyxwvut" not in caplog.text and "PID-998877" not in caplog.text


# --- every pydicom and pydicom-data test file ------------------------------------------------
@pytest.fixture(scope="module")
def pydicom_test_files() -> list[str]:
    """``get_testdata_files("*")`` without its download attempts (this machine is offline)."""
    from pydicom.data import data_manager

    original = data_manager.online_test_file_dummy_paths
    data_manager.online_test_file_dummy_paths = lambda: {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            files = data_manager.get_testdata_files("*")
    finally:
        data_manager.online_test_file_dummy_paths = original
    return sorted(files)


def _expected_files(paths: list[str]) -> set[str]:
    expected = set()
    for path in map(Path, paths):
        if path.is_dir():
            expected.update(str(p) for p in path.rglob("*") if p.is_file())
        else:
            expected.add(str(path))
    return expected


def test_every_pydicom_test_file_is_indexed_or_skipped_with_a_reason(pydicom_test_files):
    assert len(pydicom_test_files) > 120, "pydicom-data should be installed"
    index = index_paths(pydicom_test_files)
    indexed = {i.path for s in index.all_series() for i in s.instances}
    skipped = [s.path for s in index.skipped]
    assert len(skipped) == len(set(skipped)), "a file was skipped twice"
    assert not indexed & set(skipped), "a file was both indexed and skipped"
    assert indexed | set(skipped) == _expected_files(pydicom_test_files)
    assert all(s.reason.endswith(".") and len(s.reason) > 20 for s in index.skipped)
    reasons = _reasons(index)
    known = {
        "MR_truncated.dcm": "Truncated DICOM file: the pixel data stops after 8130 of 8192",
        "emri_small_jpeg_2k_lossless_too_short.dcm": "Truncated DICOM file",
        "README.txt": "Not a DICOM file: it is a text file",
        "test1.json": "JSON text file",
        "rtplan_truncated.dcm": "Truncated DICOM file: the header ends early",
        "zipMR.gz": "gzip-compressed",
        "crayons.icc": "colour profile",
        "no_meta.dcm": "Not a DICOM file",
        "reportsi.dcm": "structured report (Basic Text SR)",
        "test-SR.dcm": "structured report (Comprehensive SR)",
        "rtplan.dcm": "radiotherapy plan",
        "rtstruct.dcm": "radiotherapy structure set",
        "waveform_ecg.dcm": "waveform recording",
        "DICOMDIR": "DICOMDIR",
        "DICOMDIR-bigEnd": "Not an image: a DICOMDIR",
        "badVR.dcm": "Number of Frames (1A)",
        "MR_small_RLE.dcm": "Duplicate of MR_small.dcm",
    }
    for name, expected in known.items():
        assert expected in reasons[name], (name, reasons[name])
    by_name = {Path(i.path).name: s for s in index.all_series() for i in s.instances}
    assert by_name["CT_small.dcm"].modality == "CT"
    dose = by_name["rtdose.dcm"]
    assert dose.number_of_slices == 15 and dose.slice_spacing_mm == pytest.approx(5.0)
    enhanced = by_name["eCT_Supplemental.dcm"]
    assert sorted(i.frame for i in enhanced.instances) == [0, 1]
    along = [np.dot(i.position_mm, slice_normal(enhanced.orientation)) for i in enhanced.instances]
    assert along[1] - along[0] == pytest.approx(enhanced.slice_spacing_mm) and along[1] > along[0]
    assert enhanced.pixel_spacing_mm == pytest.approx((0.388672, 0.388672))


@pytest.mark.real_data
def test_real_brain_mri_is_one_series_ordered_along_the_normal(shared_data: Path):
    import pydicom

    folder = shared_data / "brain-t1-dicom"
    index = index_paths([folder])
    [series] = index.all_series()
    assert series.number_of_slices == 384 and series.number_of_instances == 384
    assert series.modality == "MR" and series.warnings == []
    assert [Path(s.path).name for s in index.skipped] == ["LICENSE"]
    header = pydicom.dcmread(series.instances[0].path, stop_before_pixels=True)
    assert series.orientation == pytest.approx([float(v) for v in header.ImageOrientationPatient])
    assert series.pixel_spacing_mm == pytest.approx([float(v) for v in header.PixelSpacing])
    normal = slice_normal(series.orientation)
    along = np.array([i.position_mm for i in series.instances]) @ normal
    steps = np.diff(along)
    assert np.all(steps > 0), "slices must be in order along the slice normal"
    assert series.slice_spacing_mm == pytest.approx(float(header.SpacingBetweenSlices), rel=1e-4)
    assert np.allclose(steps, series.slice_spacing_mm, rtol=1e-3)
    assert (series.rows, series.columns) == (int(header.Rows), int(header.Columns))


def test_damaged_bytes_never_crash_the_indexer(tmp_path: Path):
    """Flip, cut and overwrite bytes of an enhanced MR file (sequences, functional groups)."""
    from dicom_factory import write_enhanced_mr

    source = write_enhanced_mr(tmp_path / "enhanced.dcm", n_slices=3).read_bytes()
    rng = np.random.default_rng(42)
    outcomes = []
    for trial in range(150):
        data = bytearray(source)
        start = int(rng.integers(128, len(data) - 16))
        if trial % 3 == 0:
            data[start:start + 8] = rng.bytes(8)
        elif trial % 3 == 1:
            data = data[:start]
        else:
            data[start] ^= 0xFF
        path = tmp_path / f"fuzz{trial}.dcm"
        path.write_bytes(bytes(data))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydicom's notes on the odd values
            outcomes.append(read_image_headers(path))
    reasons = [o.reason for o in outcomes if not isinstance(o, list)]
    assert reasons, "some damage must be noticed"
    assert all(r.endswith(".") and "could not be read as DICOM" not in r for r in reasons)


def _as_text(value) -> str:
    from pydicom.multival import MultiValue

    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def test_fast_header_values_match_pydicom_in_every_character_set():
    """The raw-bytes decoding used for speed gives what pydicom gives (names, IDs, numbers)."""
    import pydicom
    from pydicom.data import get_charset_files, get_testdata_file

    from stethoscan.imaging.series_geometry import header_value

    files = [*get_charset_files("*.dcm"), get_testdata_file("CT_small.dcm"),
             get_testdata_file("MR_small_bigendian.dcm")]
    compared = 0
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            for keyword in ("PatientName", "PatientID", "StudyDescription", "InstitutionName",
                            "Rows", "ImagePositionPatient", "SeriesNumber", "Modality"):
                fast, slow = header_value(ds, keyword), ds.get(keyword)
                if slow is None:
                    assert fast is None
                    continue
                if keyword == "ImagePositionPatient":
                    assert [float(v) for v in fast] == pytest.approx([float(v) for v in slow])
                else:
                    assert _as_text(fast) == _as_text(slow), (path, keyword)
                compared += 1
    assert compared > 40
