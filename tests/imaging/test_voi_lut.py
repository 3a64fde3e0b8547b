"""The default window of a file that carries a VOI LUT Sequence (PS3.3 C.11.2) and no window."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian

from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.pixel_decoding import decode_frame
from stethoscan.imaging.volume_loader import load_volume
from stethoscan.imaging.windowing import apply_window, auto_window, window_from_lut

VLUT = "vlut_04.dcm"  # 8-bit OT image, VOI LUT of 256 16-bit entries, no Window Center/Width


def _vlut_path() -> str:
    path = get_testdata_file(VLUT)
    assert path is not None, f"pydicom test file {VLUT} is missing"
    return path


def _as_grey(lut_output: np.ndarray) -> np.ndarray:
    """VOI LUT output scaled from its own range to 0..255, as a viewer shows it."""
    out = lut_output.astype(np.float64)
    return np.floor((out - out.min()) / (out.max() - out.min()) * 255.0 + 0.5)


def _shown_by_viewer(path: str) -> tuple[np.ndarray, tuple[float, float]]:
    """The slice as the viewer first shows it: loaded volume, its default window."""
    series = index_paths([path]).all_series()[0]
    volume = load_volume(series)
    assert volume.default_window is not None
    center, width = volume.default_window
    grey = apply_window(volume.voxels[0], center, width, volume.slope, volume.intercept)
    return grey.astype(np.int16), volume.default_window


def test_vlut_default_window_matches_pydicom_apply_voi_lut():
    ds = pydicom.dcmread(_vlut_path())
    assert "VOILUTSequence" in ds and "WindowCenter" not in ds
    grey, window = _shown_by_viewer(_vlut_path())
    expected = _as_grey(apply_voi_lut(ds.pixel_array, ds))
    assert np.abs(grey - expected).max() <= 1
    # the automatic window (what was shown before) would not pass the comparison
    auto = apply_window(ds.pixel_array, *auto_window(ds.pixel_array)).astype(np.int16)
    assert np.abs(auto - expected).max() > 1, window


def _read_pgm(path: Path) -> np.ndarray:
    data = path.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    return np.frombuffer(pixels[: int(width) * int(height)], np.uint8).reshape(
        int(height), int(width))


@pytest.mark.skipif(shutil.which("dcm2pnm") is None, reason="dcmtk (Debian package) not installed")
def test_vlut_default_window_matches_dcmtk_rendering(tmp_path):
    out = tmp_path / "voi.pgm"
    subprocess.run(["dcm2pnm", "+Wl", "1", _vlut_path(), str(out)], check=True,
                   capture_output=True, timeout=60)
    grey, _ = _shown_by_viewer(_vlut_path())
    assert np.abs(grey - _read_pgm(out).astype(np.int16)).max() <= 1


def _ct_with_voi_lut(first_mapped_hu: int, outputs: np.ndarray) -> Dataset:
    """Signed CT (intercept -1024 HU) whose VOI LUT starts at ``first_mapped_hu``."""
    rng = np.random.default_rng(3)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Modality, ds.PhotometricInterpretation, ds.SamplesPerPixel = "CT", "MONOCHROME2", 1
    ds.Rows = ds.Columns = 64
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    stored = rng.integers(500, 1600, size=(64, 64)).astype(np.int16)
    ds.PixelData = stored.tobytes()
    item = Dataset()
    item.add_new(0x00283002, "SS", [len(outputs), first_mapped_hu, 12])
    item.add_new(0x00283006, "US", [int(v) for v in outputs])
    ds.VOILUTSequence = [item]
    return ds


@pytest.mark.parametrize("shape", ["linear", "sigmoid"])
def test_voi_lut_window_is_in_hounsfield_units(shape):
    inputs = np.arange(401)
    outputs = (inputs / 400 * 4095 if shape == "linear"
               else 4095 / (1 + np.exp(-(inputs - 200) / 40))).round().astype(np.uint16)
    ds = _ct_with_voi_lut(-160, outputs)
    image = decode_frame(ds)
    assert image.window is not None
    center, width = image.window
    assert center == pytest.approx(40.5, abs=1.0)  # the LUT's middle entry is at 40 HU
    grey = apply_window(image.pixels, center, width, image.slope, image.intercept)
    hu = apply_modality_lut(image.pixels, ds).astype(np.int64)
    expected = _as_grey(apply_voi(hu, ds))
    error = np.abs(grey.astype(np.int16) - expected)
    if shape == "linear":
        assert error.max() <= 1
    else:  # a window is a straight line: the best one is ~6 grey levels off a sigmoid on average
        assert error.mean() <= 8 and error.max() <= 35


def test_a_flat_or_falling_lut_gives_no_window():
    inputs = np.arange(10)
    assert window_from_lut(inputs, np.full(10, 7)) is None
    assert window_from_lut(inputs, inputs[::-1]) is None
    assert window_from_lut(inputs, inputs) == pytest.approx((5.0, 10.0))
