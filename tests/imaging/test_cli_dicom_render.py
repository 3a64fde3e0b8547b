"""``stethoscan dicom render``: the PNG is the plane the viewer shows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from dicom_factory import write_series
from PIL import Image

from stethoscan.cli import main
from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.windowing import linear_window


@pytest.fixture
def ct_folder(tmp_path):
    """An axial CT: 6 slices of 8 x 10 pixels, 0.5 mm pixels, 2 mm apart; slice k = k*10 + p."""
    folder = tmp_path / "ct"
    write_series(folder, n_slices=6, rows=8, cols=10, spacing_mm=2.0, pixel_spacing=(0.5, 0.5),
                 shuffle=True, pixel_fn=lambda k, r, c: np.full((r, c), 1024 + k * 100, np.int16))
    return folder


def _png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _grey(hu: float, center: float, width: float) -> int:
    return int(np.floor(linear_window(np.array([hu]), center, width)[0] + 0.5))


def test_acquired_slice_with_explicit_window(ct_folder, tmp_path, capsys):
    out = tmp_path / "slice.png"
    uid = index_paths([ct_folder]).all_series()[0].series_uid
    code = main(["dicom", "render", str(ct_folder), "--series", uid, "--slice", "2",
                 "--wl", "150", "400", "--no-overlay", "--out", str(out)])
    assert code == 0
    image = _png(out)
    assert image.shape == (8, 10, 3)
    assert np.all(image == _grey(200.0, 150, 400))  # slice 2 holds 1024 + 200 - 1024 HU
    assert "axial plane 3 of 6 (index 2)" in capsys.readouterr().out  # counted as the caption


def test_coronal_plane_has_square_pixels_and_superior_on_top(ct_folder, tmp_path):
    out = tmp_path / "coronal.png"
    code = main(["dicom", "render", str(ct_folder), "--plane", "coronal", "--index", "3",
                 "--wl", "250", "600", "--no-overlay", "--out", str(out)])
    assert code == 0
    image = _png(out)[..., 0].astype(int)
    assert image.shape == (24, 10)  # 6 slices x 2 mm over 0.5 mm pixels: 4x taller rows
    column = image[:, 5]
    assert column[0] > column[-1]  # the top row is the most superior (highest HU) slice
    assert column[0] == _grey(500.0, 250, 600) and column[-1] == _grey(0.0, 250, 600)


def test_presets_overlay_and_errors(ct_folder, tmp_path, capsys):
    out = tmp_path / "lung.png"
    assert main(["dicom", "render", str(ct_folder), "--plane", "sagittal", "--window", "lung",
                 "--out", str(out)]) == 0
    image = _png(out)
    yellow = (image[..., 0] > 200) & (image[..., 1] > 180) & (image[..., 2] < 150)
    assert yellow.any()  # orientation letters are drawn
    assert main(["dicom", "render", str(ct_folder), "--plane", "axial", "--index", "99",
                 "--out", str(out)]) == 1
    assert "between 0 and 5" in capsys.readouterr().err
    assert main(["dicom", "render", str(ct_folder), "--series", "1.2.3", "--out", str(out)]) == 1
    assert "No series with UID 1.2.3" in capsys.readouterr().err
    assert main(["dicom", "render", str(ct_folder), "--window", "kidney", "--out",
                 str(out)]) == 1
    assert "Unknown window preset" in capsys.readouterr().err


def test_the_installed_command_runs(ct_folder, tmp_path):
    out = tmp_path / "cli.png"
    result = subprocess.run(
        [sys.executable, "-m", "stethoscan", "dicom", "render", str(ct_folder), "--out", str(out)],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert _png(out).shape == (8, 10, 3)


def test_bad_out_paths_give_a_sentence_before_any_work(ct_folder, tmp_path, capsys):
    missing = tmp_path / "nonexist" / "dir" / "a.png"
    assert main(["dicom", "render", str(ct_folder), "--out", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"The folder {missing.parent} for --out does not exist: create it first" in err
    assert main(["dicom", "render", str(ct_folder), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"--out {tmp_path} is a folder: give a file name, for example {tmp_path / 'slice.png'}" in err


def test_a_write_failure_is_a_sentence_not_a_traceback(ct_folder, tmp_path, monkeypatch, capsys):
    from stethoscan.imaging import slice_rendering

    out = tmp_path / "a.png"

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr(slice_rendering, "write_png", refuse)
    assert main(["dicom", "render", str(ct_folder), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"Permission denied: {out} cannot be read or written by your user" in err
    assert "Traceback" not in err


def test_a_ct_preset_on_an_mr_series_is_rendered_with_a_warning(tmp_path, capsys):
    folder = tmp_path / "mr"
    write_series(folder, n_slices=3, modality="MR")
    assert main(["dicom", "render", str(folder), "--window", "lung", "--out", str(tmp_path / "a.png")]) == 0
    assert "warning: 'lung' is a CT window (HU), but this series is MR" in capsys.readouterr().out
    assert main(["dicom", "render", str(folder), "--out", str(tmp_path / "b.png")]) == 0
    assert "warning" not in capsys.readouterr().out
