"""Every file of pydicom's and pydicom-data's test corpus decodes or gives its specific reason,
and the decoded pixels agree with an independent decoder.

Independent decoders: dcmtk (dcmdrle, dcmdjpeg, dcmdjpls to decompress; dcmdump +W to extract
stored values; dcmj2pnm to render colour) for everything dcmtk reads; for JPEG 2000, which dcmtk
does not decode, a second pydicom plugin (pylibjpeg-openjpeg and GDCM, both built on OpenJPEG).
The files compared are listed in DCMTK_COMPARED and J2K_COMPARED; DCMTK_NOT_COMPARED says why
the others are not.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut, pixel_array

from stethoscan.core.errors import (
    DicomError,
    NotDicomError,
    StethoscanError,
    UnsupportedTransferSyntaxError,
)
from stethoscan.imaging.pixel_decoding import (
    decode_frame,
    has_pixel_data,
    number_of_frames,
    read_dataset,
)

PYDICOM_ROOT = Path(pydicom.__file__).parent / "data"
PYDICOM_DATA_ROOT = Path(importlib.util.find_spec("data_store").origin).parent / "data"
HAS_DCMDJPEG = shutil.which("dcmdjpeg") is not None

NO_IMAGE = "contains no image"
# Files that cannot be shown, with the reason the user must get (regular expression).
EXPECTED_REASONS: dict[str, tuple[type[StethoscanError], str]] = {
    "pydicom:test_files/MR_truncated.dcm": (DicomError, "shorter than the image description"),
    "pydicom:test_files/JPEG2000-embedded-sequence-delimiter.dcm": (
        DicomError, r"JPEG 2000 Image Compression \(1.2.840.10008.1.2.4.91\) pixel data .* "
                    "damaged"),
    "pydicom:test_files/badVR.dcm": (DicomError, r"Number of Frames \('1A'\) is not a number"),
    "pydicom:test_files/meta_missing_tsyntax.dcm": (DicomError, "missing Rows, Columns"),
    "pydicom:test_files/nested_priv_SQ.dcm": (DicomError, "missing Rows, Columns"),
    "pydicom:test_files/no_meta.dcm": (NotDicomError, "not a readable DICOM file"),
    "pydicom-data:emri_small_jpeg_2k_lossless_too_short.dcm": (DicomError, "truncated"),
    **{f"pydicom:charset_files/{n}.dcm": (DicomError, "pixel data is missing")
       for n in ("chrJapMulti", "chrJapMultiExplicitIR6", "chrKoreanMulti")},
    **{f"pydicom:{n}": (DicomError, NO_IMAGE) for n in (
        "charset_files/chrSQEncoding.dcm", "charset_files/chrSQEncoding1.dcm",
        "test_files/UN_sequence.dcm", "test_files/empty_charset_LEI.dcm",
        "test_files/no_meta_group_length.dcm", "test_files/priv_SQ.dcm",
        "test_files/ExplVR_BigEndNoMeta.dcm", "test_files/ExplVR_LitEndNoMeta.dcm",
        "test_files/reportsi.dcm", "test_files/reportsi_with_empty_number_tags.dcm",
        "test_files/rtplan.dcm", "test_files/rtplan_truncated.dcm", "test_files/rtstruct.dcm",
        "test_files/test-SR.dcm", "test_files/waveform_ecg.dcm")},
}
NOT_DICOM_SUFFIXES = (".txt", ".json", ".md", ".dump", ".icc", ".gz")


def _expected_reason(key: str) -> tuple[type[StethoscanError], str] | None:
    if key in EXPECTED_REASONS:
        return EXPECTED_REASONS[key]
    name = key.split(":", 1)[1]
    if name.endswith(NOT_DICOM_SUFFIXES) or name.endswith("TINY_ALPHA/README"):
        return NotDicomError, "not a readable DICOM file"
    if "/DICOMDIR" in f"/{name}" or name.startswith("palettes/") or "TINY_ALPHA/PT" in name:
        return DicomError, NO_IMAGE  # directories, colour palettes, header-only stubs
    if name.endswith(("JPGExtended.dcm", "JPEG-lossy.dcm")) and not HAS_DCMDJPEG:
        return UnsupportedTransferSyntaxError, "12-bit JPEG Extended.*dcmdjpeg"
    return None


def corpus() -> dict[str, Path]:
    files: dict[str, Path] = {}
    for label, root in (("pydicom", PYDICOM_ROOT), ("pydicom-data", PYDICOM_DATA_ROOT)):
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix not in (".py", ".pyc") and (
                    "__pycache__" not in path.parts):
                files[f"{label}:{path.relative_to(root).as_posix()}"] = path
    return files


def decode_frames(path: Path, limit: int | None = 16) -> dict:
    """Decode every frame; of a file with more than ``limit`` frames, the first, middle and last
    (each frame of a multi-frame JPEG is coded on its own)."""
    ds = read_dataset(path)
    count = number_of_frames(ds) if has_pixel_data(ds) else 1
    picks = range(count) if limit is None or count <= limit else (0, count // 2, count - 1)
    return {i: decode_frame(ds, i, path=str(path)) for i in picks}


@pytest.mark.slow
def test_every_corpus_file_decodes_or_gives_its_reason():
    files = corpus()
    assert len(files) > 250  # pydicom's ~200 and pydicom-data's ~68 files
    assert set(EXPECTED_REASONS) <= set(files), "expected-reason table names a missing file"
    decoded, wrong = 0, []
    for key, path in files.items():
        expected = _expected_reason(key)
        try:
            images = decode_frames(path)
        except StethoscanError as exc:
            if expected is None or not isinstance(exc, expected[0]) or not re.search(
                    expected[1], str(exc)):
                wrong.append(f"{key}: {type(exc).__name__}: {exc}")
            continue
        if expected is not None:
            wrong.append(f"{key}: decoded, but expected {expected}")
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        for image in images.values():
            assert image.pixels.shape[:2] == (ds.Rows, ds.Columns), key
            assert image.pixels.dtype.isnative, key
            assert (image.pixels.ndim == 3) == (image.photometric == "RGB"), key
        decoded += 1
    assert not wrong, "\n".join(wrong)
    assert decoded >= 150


# --- agreement with dcmtk ------------------------------------------------------------------
DCMTK_DECOMPRESS = {
    "1.2.840.10008.1.2.5": "dcmdrle",
    "1.2.840.10008.1.2.4.50": "dcmdjpeg",
    "1.2.840.10008.1.2.4.51": "dcmdjpeg",
    "1.2.840.10008.1.2.4.57": "dcmdjpeg",
    "1.2.840.10008.1.2.4.70": "dcmdjpeg",
    "1.2.840.10008.1.2.4.80": "dcmdjpls",
    "1.2.840.10008.1.2.4.81": "dcmdjpls",
}
LOSSY = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
DCMTK_NOT_COMPARED = {
    "JPGExtended.dcm": "12-bit JPEG: Stethoscan itself decodes it with dcmdjpeg",
    "JPEG-lossy.dcm": "12-bit JPEG: Stethoscan itself decodes it with dcmdjpeg",
    "SC_rgb_32bit.dcm": "dcmtk does not render 32-bit RGB",
    "SC_rgb_32bit_2frame.dcm": "dcmtk does not render 32-bit RGB",
    "SC_rgb_expb_32bit.dcm": "dcmtk does not render 32-bit RGB",
    "SC_rgb_expb_32bit_2frame.dcm": "dcmtk does not render 32-bit RGB",
    "gdcm-US-ALOKA-16.dcm": "dcmtk does not support segmented palettes",
    "gdcm-US-ALOKA-16_big.dcm": "dcmtk does not support segmented palettes",
    "SC_rgb_jpeg.dcm": "dcmtk refuses the file (non-standard VR in (0008,0008))",
    "rtdose_expb.dcm": "dcmtk swaps big-endian 32-bit OW data as 16-bit words",
    "rtdose_expb_1frame.dcm": "dcmtk swaps big-endian 32-bit OW data as 16-bit words",
}
NATIVE = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
          "1.2.840.10008.1.2.1.99")
# Every decodable corpus file that dcmtk reads (the test checks that this list is complete).
DCMTK_COMPARED = sorted("""
693_UNCI.dcm 693_UNCR.dcm JPEG-LL.dcm JPEG2000_UNC.dcm JPGLosslessP14SV1_1s_1f_8b.dcm
MR-SIEMENS-DICOM-WithOverlays.dcm MR2_UNCI.dcm MR2_UNCR.dcm OBXXXX1A.dcm OBXXXX1A_2frame.dcm
OBXXXX1A_expb.dcm OBXXXX1A_expb_2frame.dcm OBXXXX1A_rle.dcm OBXXXX1A_rle_2frame.dcm
OT-PAL-8-face.dcm RG1_UNCI.dcm RG1_UNCR.dcm RG3_UNCI.dcm RG3_UNCR.dcm SC_rgb.dcm
SC_rgb_16bit.dcm SC_rgb_16bit_2frame.dcm SC_rgb_2frame.dcm SC_rgb_dcmtk_ebcr_dcmd.dcm
SC_rgb_dcmtk_ebcyn1_dcmd.dcm SC_rgb_dcmtk_ebcyn2_dcmd.dcm SC_rgb_dcmtk_ebcynp_dcmd.dcm
SC_rgb_dcmtk_ebcys2_dcmd.dcm SC_rgb_dcmtk_ebcys4_dcmd.dcm SC_rgb_expb.dcm SC_rgb_expb_16bit.dcm
SC_rgb_expb_16bit_2frame.dcm SC_rgb_expb_2frame.dcm SC_rgb_gdcm2k_uncompressed.dcm
SC_ybr_full_uncompressed.dcm US1_UNCI.dcm US1_UNCR.dcm bad_sequence.dcm color-pl.dcm
color-px.dcm color3d_jpeg_baseline.dcm eCT_Supplemental.dcm emri_small.dcm emri_small_RLE.dcm
emri_small_big_endian.dcm emri_small_jpeg_ls_lossless.dcm liver.dcm liver_expb.dcm mlut_18.dcm
vlut_04.dcm chrArab.dcm chrFren.dcm chrFrenMulti.dcm chrGerm.dcm chrGreek.dcm chrH31.dcm
chrH32.dcm chrHbrw.dcm chrI2.dcm chrRuss.dcm chrX1.dcm chrX2.dcm CT_small.dcm ExplVR_BigEnd.dcm
JPEGLSNearLossless_08.dcm JPEGLSNearLossless_16.dcm MR_small.dcm MR_small_RLE.dcm
MR_small_bigendian.dcm MR_small_expb.dcm MR_small_implicit.dcm MR_small_jpeg_ls_lossless.dcm
MR_small_padded.dcm SC_jpeg_no_color_transform.dcm SC_jpeg_no_color_transform_2.dcm
SC_rgb_dcmtk_+eb+cr.dcm SC_rgb_dcmtk_+eb+cy+n1.dcm SC_rgb_dcmtk_+eb+cy+n2.dcm
SC_rgb_dcmtk_+eb+cy+np.dcm SC_rgb_dcmtk_+eb+cy+s2.dcm SC_rgb_dcmtk_+eb+cy+s4.dcm
SC_rgb_jls_lossy_line.dcm SC_rgb_jls_lossy_sample.dcm SC_rgb_jpeg_app14_dcmd.dcm
SC_rgb_jpeg_dcmd.dcm SC_rgb_jpeg_dcmtk.dcm SC_rgb_jpeg_gdcm.dcm SC_rgb_jpeg_lossy_gdcm.dcm
SC_rgb_rle.dcm SC_rgb_rle_16bit.dcm SC_rgb_rle_16bit_2frame.dcm SC_rgb_rle_2frame.dcm
SC_rgb_rle_32bit.dcm SC_rgb_rle_32bit_2frame.dcm SC_rgb_small_odd.dcm
SC_rgb_small_odd_big_endian.dcm SC_rgb_small_odd_jpeg.dcm SC_ybr_full_422_uncompressed.dcm
6154 6247 6278 17106 17136 17166 17196 6293 6924 2062 2392 2693 3023 3353 15820 4919 5641
15970 4950 4981 5011 6273 6605 6935 4467 4528 4558 4588 4618 4648 4678
examples_overlay.dcm examples_palette.dcm examples_rgb_color.dcm examples_ybr_color.dcm
image_dfl.dcm liver_1frame.dcm liver_expb_1frame.dcm rtdose.dcm rtdose_1frame.dcm
rtdose_rle.dcm rtdose_rle_1frame.dcm
""".split())
J2K_COMPARED = sorted("""
693_J2KR.dcm MR2_J2KI.dcm MR2_J2KR.dcm RG1_J2KI.dcm RG1_J2KR.dcm RG3_J2KI.dcm RG3_J2KR.dcm
US1_J2KI.dcm US1_J2KR.dcm emri_small_jpeg_2k_lossless.dcm explicit_VR-UN.dcm 693_J2KI.dcm
GDCMJ2K_TextGBR.dcm J2K_pixelrep_mismatch.dcm JPEG2000.dcm MR_small_jp2klossless.dcm
SC_rgb_gdcm_KY.dcm examples_jpeg2k.dcm
""".split())


@functools.lru_cache(maxsize=1)
def _decodable_by_name() -> dict[str, tuple[Path, str]]:
    """Decodable corpus images by file name -> (path, transfer syntax UID)."""
    found = {}
    for key, path in corpus().items():
        if _expected_reason(key) is not None:
            continue
        try:
            ds = read_dataset(path, stop_before_pixels=True)
        except StethoscanError:
            continue
        found[path.name] = (path, str(ds.file_meta.TransferSyntaxUID))
    return found


def _run(args: list[str]) -> None:
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
    assert result.returncode == 0, f"{args[0]} failed: {result.stderr[:300]!r}"


def _read_ppm(path: str) -> np.ndarray:
    data = open(path, "rb").read()
    magic, width, height, _, pixels = data.split(maxsplit=4)
    channels = 3 if magic == b"P6" else 1
    count = int(width) * int(height) * channels
    return np.frombuffer(pixels[:count], np.uint8).reshape(int(height), int(width), channels)


def _dcmtk_stored_values(path: str, folder: str) -> np.ndarray:
    """All frames' stored values, extracted by dcmdump from a dcmtk-decompressed file."""
    out = os.path.join(folder, "raw")
    os.mkdir(out)
    _run(["dcmdump", "+W", out, path])
    raw_file = max(Path(out).iterdir(), key=lambda p: p.stat().st_size)  # pixel data, not overlays
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    data = raw_file.read_bytes()
    if ds.BitsAllocated == 1:
        values = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")
    else:
        kind = "i" if ds.PixelRepresentation else "u"
        values = np.frombuffer(data, np.dtype(f"<{kind}{ds.BitsAllocated // 8}")).copy()
        unused = values.dtype.itemsize * 8 - int(ds.BitsStored)
        if unused and kind == "u":
            values &= values.dtype.type((1 << int(ds.BitsStored)) - 1)
        elif unused:
            values = (values << unused) >> unused
    frames = number_of_frames(ds)
    return values[: frames * ds.Rows * ds.Columns].reshape(frames, ds.Rows, ds.Columns)


def _compare_with_dcmtk(path: Path, syntax: str) -> str | None:
    """None when our pixels agree with dcmtk's, else what differs."""
    ours = decode_frames(path, limit=None if syntax in NATIVE else 4)
    with tempfile.TemporaryDirectory(prefix="stethoscan-dcmtk-") as folder:
        source = str(path)
        if syntax in DCMTK_DECOMPRESS:
            source = os.path.join(folder, "plain.dcm")
            _run([DCMTK_DECOMPRESS[syntax], str(path), source])
        if next(iter(ours.values())).is_rgb:
            theirs = []
            for frame in ours:
                ppm = os.path.join(folder, f"frame{frame}.ppm")
                _run(["dcmj2pnm", "+F", str(frame + 1), "+op", source, ppm])
                theirs.append(_read_ppm(ppm))
        else:
            stored = _dcmtk_stored_values(source, folder)
            theirs = [stored[frame] for frame in ours]
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            if ds.get("ModalityLUTSequence"):
                theirs = [apply_modality_lut(t, ds) for t in theirs]
    mine = [image.pixels for image in ours.values()]
    diffs = [np.abs(a.astype(np.int64) - b.astype(np.int64)) for a, b in zip(mine, theirs,
                                                                              strict=True)]
    worst_mean = max(float(d.mean()) for d in diffs)
    worst = max(int(d.max()) for d in diffs)
    photometric = str(pydicom.dcmread(path, stop_before_pixels=True, force=True).get(
        "PhotometricInterpretation", ""))
    if syntax in LOSSY or photometric.startswith("YBR"):
        ok = worst_mean < 1.0 and worst <= 8  # different IDCT / YCbCr-to-RGB arithmetic
    else:
        ok = worst == 0
    return None if ok else f"{path.name}: max diff {worst}, mean {worst_mean:.3f}"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("dcmdump") is None, reason="dcmtk (Debian package) not installed")
def test_pixels_match_dcmtk():
    decodable = _decodable_by_name()
    dcmtk_readable = {n for n, (_, syntax) in decodable.items()
                      if (syntax in NATIVE or syntax in DCMTK_DECOMPRESS)
                      and n not in DCMTK_NOT_COMPARED}
    assert dcmtk_readable == set(DCMTK_COMPARED)  # the list names every file that can be compared
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda n: _compare_with_dcmtk(*decodable[n]), DCMTK_COMPARED))
    problems = [r for r in results if r is not None]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_jpeg2000_matches_a_second_decoder():
    decodable = _decodable_by_name()
    j2k = {n for n, (_, s) in decodable.items() if s.startswith("1.2.840.10008.1.2.4.9")}
    assert j2k == set(J2K_COMPARED)
    for name in J2K_COMPARED:
        path = decodable[name][0]
        ds = read_dataset(path)
        index = 0 if number_of_frames(ds) > 1 else None
        ours = decode_frame(ds, 0, path=str(path)).pixels  # GDCM, pydicom's first J2K plugin
        theirs = pixel_array(ds, index=index, decoding_plugin="pylibjpeg")
        np.testing.assert_array_equal(ours, theirs, err_msg=f"{name} vs pylibjpeg")
        if ours.shape[0] * ours.shape[1] <= 1_000_000:  # third decoder on the smaller images
            threaded = decode_frame(ds, 0, path=str(path), threads=2).pixels  # Pillow
            np.testing.assert_array_equal(ours, threaded, err_msg=f"{name} vs Pillow")
