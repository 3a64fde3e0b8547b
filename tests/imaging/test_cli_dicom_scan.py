"""``stethoscan dicom scan PATH --json``: the documented JSON, exit codes, real data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from dicom_factory import write_multi_echo_series, write_series

from stethoscan.cli import main

SERIES_KEYS = {"series_uid", "modality", "number_of_instances", "rows", "columns",
               "number_of_slices", "voxel_spacing_mm", "orientation", "warnings",
               "split_reason", "plane"}


def _scan_json(capsys, *paths: Path) -> tuple[int, dict]:
    code = main(["dicom", "scan", *map(str, paths), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_scan_json_lists_series_and_skipped_files(tmp_path: Path, capsys):
    write_series(tmp_path / "ct", n_slices=5, spacing_mm=2.5, pixel_spacing=(0.6, 0.7),
                 missing=[2])
    write_multi_echo_series(tmp_path / "mr", n_slices=3)
    (tmp_path / "notes.txt").write_text("not an image")
    code, result = _scan_json(capsys, tmp_path)
    assert code == 0
    assert result["format"] == "stethoscan-scan-index/1"
    assert result["summary"] == {"patients": 1, "studies": 2, "series": 3, "images": 10,
                                 "skipped": 1}
    series = [s for p in result["patients"] for st in p["studies"] for s in st["series"]]
    assert all(SERIES_KEYS <= set(s) for s in series)
    [ct] = [s for s in series if s["modality"] == "CT"]
    assert ct["number_of_slices"] == ct["number_of_instances"] == 4
    assert ct["voxel_spacing_mm"] == [2.5, 0.6, 0.7]
    assert ct["orientation"] == [1.0, 0.0, 0.0, 0.0, 1.0, 0.0] and ct["plane"] == "axial"
    assert any("Missing slices between slice 2 and 3" in w for w in ct["warnings"])
    echoes = sorted(s["series_uid"][-2:] for s in series if s["modality"] == "MR")
    assert echoes == [".1", ".2"]
    [skipped] = result["skipped"]
    assert skipped["path"].endswith("notes.txt") and "text file" in skipped["reason"]


def test_scan_exits_1_with_a_message_when_the_path_does_not_exist(tmp_path: Path, capsys):
    code = main(["dicom", "scan", str(tmp_path / "missing"), "--json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out == ""
    assert "does not exist" in captured.err


def test_scan_exits_1_with_a_sentence_when_every_file_is_bad(tmp_path: Path, capsys):
    (tmp_path / "a.txt").write_text("hello")
    code = main(["dicom", "scan", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # the listing of skipped files is still printed
    assert code == 1 and result["patients"] == [] and len(result["skipped"]) == 1
    assert f"No DICOM image could be loaded from {tmp_path}: all 1 file(s) were skipped" in captured.err
    (tmp_path / "a.txt").unlink()
    assert main(["dicom", "scan", str(tmp_path)]) == 1
    assert "it holds no files" in capsys.readouterr().err


def test_scan_text_listing(tmp_path: Path, capsys):
    write_series(tmp_path, n_slices=3, series_description="Head CT")
    assert main(["dicom", "scan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "'Head CT': 3 images 16x16" in out and "axial" in out


def test_render_subcommand_is_registered_when_present():
    from stethoscan.cli import build_parser

    parser = build_parser()
    dicom = parser._subparsers._group_actions[0].choices["dicom"]
    actions = dicom._subparsers._group_actions[0].choices
    assert "scan" in actions
    try:
        import stethoscan.commands.dicom_render  # noqa: F401
    except ModuleNotFoundError:
        return
    assert "render" in actions


@pytest.mark.real_data
def test_real_brain_mri_scan_json_from_the_command_line(shared_data: Path):
    folder = shared_data / "brain-t1-dicom"
    result = subprocess.run(
        [sys.executable, "-m", "stethoscan", "dicom", "scan", str(folder), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [patient] = data["patients"]
    [study] = patient["studies"]
    [series] = study["series"]
    header = pydicom.dcmread(folder / "N2D_0001.dcm", stop_before_pixels=True)
    assert series["series_uid"] == header.SeriesInstanceUID
    assert series["number_of_slices"] == series["number_of_instances"] == 384
    assert (series["rows"], series["columns"]) == (header.Rows, header.Columns)
    spacing = [float(header.SpacingBetweenSlices), *map(float, header.PixelSpacing)]
    assert series["voxel_spacing_mm"] == pytest.approx(spacing, rel=1e-4)
    assert series["orientation"] == pytest.approx(
        [float(v) for v in header.ImageOrientationPatient], abs=1e-6)
    assert series["warnings"] == []
    assert [Path(s["path"]).name for s in data["skipped"]] == ["LICENSE"]


def test_a_skipped_zip_member_is_shown_inside_its_archive_and_a_damaged_zip_says_so(tmp_path: Path, capsys):
    import zipfile

    write_series(tmp_path / "ct", n_slices=2)
    with zipfile.ZipFile(tmp_path / "study.zip", "w") as archive:
        for path in sorted((tmp_path / "ct").iterdir()):
            archive.write(path, f"DICOM/{path.name}")
        archive.writestr("DICOM/README.TXT", "not an image")
    (tmp_path / "broken.dat").write_bytes(b"PK\x03\x04" + b"\x00" * 40)  # a zip's start, no more
    code, result = _scan_json(capsys, tmp_path / "study.zip", tmp_path / "broken.dat")
    assert code == 0
    shown = {s["shown_as"]: s["reason"] for s in result["skipped"]}
    assert shown[f"{tmp_path / 'study.zip'} › DICOM/README.TXT"].startswith("Not a DICOM file")
    assert "damaged or unsupported zip archive" in shown[str(tmp_path / "broken.dat")]
    assert main(["dicom", "scan", str(tmp_path / "study.zip")]) == 0
    assert "study.zip › DICOM/README.TXT: Not a DICOM file" in capsys.readouterr().out
