"""Decoding one image: transfer syntaxes, modality LUT, colour, and the reasons for failure."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from stethoscan.core.errors import DicomError, NotDicomError, UnsupportedTransferSyntaxError
from stethoscan.imaging import pixel_decoding
from stethoscan.imaging.pixel_decoding import (
    check_transfer_syntax,
    decode_file,
    decode_frame,
    frame_rescale,
    read_dataset,
)


def _file(name: str) -> str:
    path = get_testdata_file(name)
    assert path is not None, f"pydicom test file {name} is missing"
    return path


def test_ct_keeps_stored_values_and_rescale_to_hu():
    image = decode_file(_file("CT_small.dcm"))
    ds = pydicom.dcmread(_file("CT_small.dcm"))
    assert image.pixels.dtype == np.int16 and image.units == "HU"
    assert (image.slope, image.intercept) == (1.0, -1024.0)
    hu = image.pixels * image.slope + image.intercept
    np.testing.assert_allclose(hu, apply_modality_lut(ds.pixel_array, ds))


@pytest.mark.parametrize("reference, other", [
    ("MR_small.dcm", "MR_small_jp2klossless.dcm"),
    ("MR_small.dcm", "MR_small_RLE.dcm"),
    ("MR_small.dcm", "MR_small_jpeg_ls_lossless.dcm"),
    ("MR_small.dcm", "MR_small_bigendian.dcm"),
    ("MR_small.dcm", "MR_small_implicit.dcm"),
    ("693_UNCR.dcm", "693_J2KR.dcm"),
    ("RG3_UNCR.dcm", "RG3_J2KR.dcm"),
    ("US1_UNCR.dcm", "US1_J2KR.dcm"),
    ("OBXXXX1A.dcm", "OBXXXX1A_rle.dcm"),
    ("SC_rgb.dcm", "SC_rgb_jpeg_gdcm.dcm"),
    ("SC_rgb.dcm", "SC_rgb_rle.dcm"),
])
def test_lossless_syntaxes_equal_the_uncompressed_original(reference, other):
    expected = decode_file(_file(reference)).pixels
    decoded = decode_file(_file(other)).pixels
    assert decoded.dtype == expected.dtype and decoded.dtype.isnative
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.parametrize("name", ["SC_rgb_dcmtk_+eb+cy+np.dcm", "SC_rgb_jpeg_dcmtk.dcm",
                                  "SC_ybr_full_uncompressed.dcm", "SC_rgb_dcmtk_+eb+cr.dcm"])
def test_ybr_and_lossy_jpeg_come_out_as_rgb(name):
    expected = decode_file(_file("SC_rgb.dcm")).pixels.astype(int)
    image = decode_file(_file(name))
    assert image.photometric == "RGB" and image.pixels.dtype == np.uint8
    assert np.abs(image.pixels.astype(int) - expected).mean() < 4.0


def test_high_bit_depth_rgb_and_palette_colour_become_uint8_rgb():
    rgb16 = decode_file(_file("SC_rgb_16bit.dcm"))
    np.testing.assert_array_equal(rgb16.pixels, decode_file(_file("SC_rgb.dcm")).pixels)
    for name in ("OBXXXX1A.dcm", "gdcm-US-ALOKA-16.dcm", "examples_palette.dcm"):
        image = decode_file(_file(name))
        assert image.photometric == "RGB" and image.pixels.dtype == np.uint8
        assert image.pixels.shape[-1] == 3 and image.pixels.max() > 200, name


def test_monochrome1_is_flagged_and_modality_lut_sequence_applied():
    assert decode_file(_file("RG1_UNCR.dcm")).photometric == "MONOCHROME1"
    ds = pydicom.dcmread(_file("mlut_18.dcm"))
    image = decode_file(_file("mlut_18.dcm"))
    np.testing.assert_array_equal(image.pixels, apply_modality_lut(ds.pixel_array, ds))
    assert (image.slope, image.intercept) == (1.0, 0.0)


def test_multiframe_frames_and_functional_group_rescale():
    ds = read_dataset(_file("emri_small.dcm"))
    frames = [decode_frame(ds, i).pixels for i in range(int(ds.NumberOfFrames))]
    np.testing.assert_array_equal(np.stack(frames), ds.pixel_array)
    with pytest.raises(DicomError, match="frame"):
        decode_frame(ds, 10)
    ds = read_dataset(_file("eCT_Supplemental.dcm"))
    item = Dataset()  # frame 2 overrides the shared rescale in its per-frame group
    item.RescaleSlope, item.RescaleIntercept = 2, -500
    ds.PerFrameFunctionalGroupsSequence[1].PixelValueTransformationSequence = [item]
    assert frame_rescale(ds, 0) == (1.0, -1024.0)
    assert frame_rescale(ds, 1) == (2.0, -500.0)


def test_missing_transfer_syntax_is_inferred():
    image = decode_file(_file("OT-PAL-8-face.dcm"))  # no (0002,0010) in the file
    assert image.pixels.shape == (480, 640, 3)


@pytest.mark.parametrize("uid, words", [
    ("1.2.840.10008.1.2.4.100", ["MPEG2", "1.2.840.10008.1.2.4.100", "video"]),
    ("1.2.840.10008.1.2.4.94", ["JPIP", "offline"]),
    ("1.2.840.10008.1.2.4.110", ["JPEG XL", "uncompressed"]),
    ("1.2.3.4.5", ["unknown transfer syntax 1.2.3.4.5"]),
])
def test_undecodable_syntaxes_name_themselves_and_a_remedy(uid, words):
    with pytest.raises(UnsupportedTransferSyntaxError) as info:
        check_transfer_syntax(uid)
    for word in words:
        assert word in str(info.value)


def test_missing_decoder_message_says_what_to_install(monkeypatch):
    class NoPlugins:
        is_available = False

    monkeypatch.setattr("pydicom.pixels.get_decoder", lambda uid: NoPlugins())
    monkeypatch.setattr(shutil, "which", lambda name: None)
    ds = read_dataset(_file("MR_small_jpeg_ls_lossless.dcm"))
    with pytest.raises(UnsupportedTransferSyntaxError) as info:
        decode_frame(ds)
    message = str(info.value)
    assert "JPEG-LS Lossless Image Compression (1.2.840.10008.1.2.4.80)" in message
    assert "python-gdcm" in message and "dcmdjpls" in message


def test_twelve_bit_jpeg_uses_dcmtk_or_says_so(monkeypatch):
    path = _file("JPGExtended.dcm")
    if shutil.which("dcmdjpeg"):
        image = decode_file(path)
        assert image.pixels.shape == (1024, 256) and 0 < image.pixels.max() < 4096
    pixel_decoding._decode_with_dcmtk.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UnsupportedTransferSyntaxError, match="12-bit JPEG Extended.*dcmdjpeg"):
        decode_file(path)
    pixel_decoding._decode_with_dcmtk.cache_clear()


def test_bad_files_give_specific_reasons(tmp_path):
    with pytest.raises(DicomError, match="truncated"):
        decode_file(_file("MR_truncated.dcm"))
    with pytest.raises(DicomError, match="contains no image"):
        decode_file(_file("rtplan.dcm"))
    text = tmp_path / "notes.dcm"
    text.write_text("not an image\n" * 20)
    with pytest.raises(NotDicomError, match="notes.dcm"):
        decode_file(text)
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(open(_file("CT_small.dcm"), "rb").read()[:-5000])
    with pytest.raises(DicomError, match="truncated|shorter"):
        decode_file(cut)


@pytest.mark.parametrize("name", ["SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_jpeg_app14_dcmd.dcm",
                                  "color3d_jpeg_baseline.dcm", "MR_small_RLE.dcm",
                                  "US1_J2KR.dcm"])
def test_parallel_decoders_agree_with_the_default_ones(name):
    ds = read_dataset(_file(name))
    frames = pixel_decoding.number_of_frames(ds)
    for frame in sorted({0, frames - 1}):
        default = decode_frame(ds, frame).pixels
        threaded = decode_frame(ds, frame, threads=2).pixels  # Pillow / pylibjpeg-rle first
        np.testing.assert_array_equal(threaded, default)


def test_gil_free_decoders_only_where_they_release_the_gil():
    from pydicom.uid import (
        JPEG2000,
        JPEG2000Lossless,
        JPEGBaseline8Bit,
        JPEGLSLossless,
        RLELossless,
    )

    assert pixel_decoding.gil_free_plugin(RLELossless) == "pylibjpeg"
    assert pixel_decoding.gil_free_plugin(JPEGBaseline8Bit) == "pillow"
    for uid in (JPEG2000Lossless, JPEG2000, JPEGLSLossless):  # GDCM / OpenJPEG hold the GIL
        assert pixel_decoding.gil_free_plugin(uid) == ""
