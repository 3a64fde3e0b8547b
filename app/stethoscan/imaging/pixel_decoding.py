"""Decode one DICOM image (a file, or one frame of a multi-frame file) to stored values.

Decoding goes through pydicom's pixel handlers (pylibjpeg-openjpeg, pylibjpeg-rle, python-gdcm,
Pillow). 12-bit JPEG, which none of those decode, falls back to dcmtk's ``dcmdjpeg`` when it is
installed. A syntax nothing can decode raises :class:`UnsupportedTransferSyntaxError` naming
the syntax and what would decode it (:mod:`transfer_syntaxes`).

Monochrome images keep their stored integers plus the modality rescale (slope, intercept); a
Modality LUT Sequence is applied to the values. Colour images (RGB, YBR, palette colour) come
out as RGB uint8.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stethoscan.core.errors import DicomError, NotDicomError, UnsupportedTransferSyntaxError
from stethoscan.imaging.series_geometry import number
from stethoscan.imaging.transfer_syntaxes import (
    DCMTK_DECODERS,
    JPEG_8BIT,
    JPEG_2000,
    RLE,
    check_transfer_syntax,
    syntax_label,
    unsupported_message,
)

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


@dataclass
class DecodedImage:
    """One decoded image.

    ``pixels`` is (rows, columns) of stored values (native byte order) for monochrome images,
    or (rows, columns, 3) uint8 RGB. Physical value = stored * slope + intercept, in ``units``.
    """

    pixels: np.ndarray
    slope: float = 1.0
    intercept: float = 0.0
    photometric: str = "MONOCHROME2"  # MONOCHROME1 (shown inverted), MONOCHROME2 or RGB
    window: tuple[float, float] | None = None  # first (center, width), physical units
    units: str = ""

    @property
    def is_rgb(self) -> bool:
        return self.pixels.ndim == 3


# --- reading -------------------------------------------------------------------------------
def read_dataset(path: str | os.PathLike[str], stop_before_pixels: bool = False) -> Dataset:
    """Read a DICOM file; files without the 128-byte preamble are accepted when they parse.

    Raises
    ------
    NotDicomError
        The file is not DICOM.
    DicomError
        The file is DICOM but cannot be parsed.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    name = Path(path).name
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError:
        ds = _read_without_preamble(path, stop_before_pixels)
    except (OSError, ValueError, EOFError, KeyError, TypeError) as exc:
        raise DicomError(f"{name} could not be read as DICOM ({exc}).") from exc
    _fill_missing_transfer_syntax(ds)
    return ds


def _read_without_preamble(path: str | os.PathLike[str], stop_before_pixels: bool) -> Dataset:
    import pydicom

    name = Path(path).name
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=stop_before_pixels)
    except (OSError, ValueError, EOFError, KeyError, TypeError, AttributeError) as exc:
        raise NotDicomError(f"{name} is not a readable DICOM file.") from exc
    # force=True parses almost anything: accept it only when it looks like a DICOM image header
    groups = {tag.group for tag in ds.keys()}
    if not ({0x0008, 0x0028, 0x7FE0} & groups) or any(g > 0xFFFE for g in groups):
        raise NotDicomError(f"{name} is not a readable DICOM file.")
    return ds


def _fill_missing_transfer_syntax(ds: Dataset) -> None:
    """Files without (0002,0010) are native; the encoding pydicom read them with says which."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if meta.get("TransferSyntaxUID"):
        return
    implicit, little = ds.original_encoding
    if implicit:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    elif little is False:
        meta.TransferSyntaxUID = ExplicitVRBigEndian
    else:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian


def has_pixel_data(ds: Dataset) -> bool:
    return any(keyword in ds for keyword in PIXEL_DATA_KEYWORDS)


def number_of_frames(ds: Dataset) -> int:
    """(0028,0008) Number of Frames, 1 when absent; a clear error when it is not a number."""
    raw = ds.get("NumberOfFrames")
    if raw is None or raw == "":
        return 1
    try:
        return max(int(raw), 1)
    except (TypeError, ValueError) as exc:
        raise DicomError(
            f"The header value Number of Frames ('{raw}') is not a number, so the frames in "
            "this file cannot be located. Ask the sender to correct or re-export the file."
        ) from exc


# --- decoding ------------------------------------------------------------------------------
def decode_file(path: str | os.PathLike[str], frame: int | None = None,
                threads: int = 1) -> DecodedImage:
    """Decode ``frame`` (0-based; None = the only or first frame) of the file at ``path``."""
    ds = read_dataset(path)
    return decode_frame(ds, frame, path=str(path), threads=threads)


def decode_frame(ds: Dataset, frame: int | None = None, path: str | None = None,
                 threads: int = 1) -> DecodedImage:
    """Decode one frame of ``ds`` and apply the modality LUT, colour and palette conversions.

    With ``threads`` > 1 (decoding in parallel), a decoder that releases the GIL is tried first.

    Raises
    ------
    UnsupportedTransferSyntaxError
        No installed decoder handles the transfer syntax (the message says what would).
    DicomError
        The file has no image, an incomplete image description, or damaged pixel data.
    """
    index = _validate_image(ds, frame)
    stored = _decode_stored(ds, index, path, _gil_free_plugin(ds) if threads > 1 else "")
    slope, intercept = frame_rescale(ds, index)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if stored.ndim == 2 and photometric == "PALETTE COLOR":
        return DecodedImage(_apply_palette(stored, ds), photometric="RGB")
    if stored.ndim == 3:
        return DecodedImage(_rgb_to_uint8(stored, ds), photometric="RGB")
    image = DecodedImage(stored, slope, intercept, photometric if photometric == "MONOCHROME1"
                         else "MONOCHROME2", frame_window(ds, index), modality_units(ds))
    if ds.get("ModalityLUTSequence"):
        image = _apply_modality_lut_sequence(image, ds)
    return image


def _validate_image(ds: Dataset, frame: int | None) -> int:
    """Check the image description; return the 0-based frame index to decode."""
    if not has_pixel_data(ds):
        if ds.get("Rows") and ds.get("Columns"):
            raise DicomError(
                "The file describes an image but its pixel data is missing: the file was cut "
                "short or its pixels were removed. Copy it again from the original source."
            )
        if len(ds) == 0:
            raise DicomError("No DICOM element of this file could be read: it is truncated or "
                             "damaged. Copy it again from the original source.")
        sop = getattr(ds.get("SOPClassUID"), "name", "")
        kind = f" ({sop})" if sop else ""
        raise DicomError(f"This DICOM file{kind} contains no image to show.")
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if ds.get(k) in (None, "")]
    if missing:
        raise DicomError(
            "The file has pixel data but its image description is incomplete "
            f"(missing {', '.join(missing)}), so it cannot be shown as an image."
        )
    frames = number_of_frames(ds)
    index = 0 if frame is None else int(frame)
    if not 0 <= index < frames:
        raise DicomError(f"Frame {index + 1} was asked for, but the file has {frames} frame(s).")
    check_transfer_syntax(ds.file_meta.TransferSyntaxUID)
    return index


def _gil_free_plugin(ds: Dataset) -> str:
    """A pydicom plugin that decodes ``ds`` without holding the GIL, or "" for the default order."""
    return gil_free_plugin(str(ds.file_meta.TransferSyntaxUID))


def gil_free_plugin(uid: str) -> str:
    """The installed pydicom plugin that decodes ``uid`` with the GIL released, or "".

    Measured (a Python thread keeps running while another decodes): Pillow's baseline JPEG
    decoder and pylibjpeg-rle release the GIL. GDCM, pylibjpeg-openjpeg and Pillow's JPEG 2000
    decoder (it pulls its input through Python file calls) hold it, as do the JPEG-LS and
    lossless JPEG decoders (GDCM): those syntaxes gain from decoder processes, not threads.
    """
    from pydicom.pixels import get_decoder

    wanted = "pylibjpeg" if uid == RLE else "pillow" if uid in JPEG_8BIT else ""
    try:
        return wanted if wanted and wanted in get_decoder(uid).available_plugins else ""
    except NotImplementedError:
        return ""


def threads_within_each_image(uid: str) -> bool:
    """Whether the default decoder of ``uid`` spreads each image over every core itself:
    GDCM decodes JPEG 2000 with OpenJPEG's thread pool (measured CPU time 1.6x wall time on
    2 cores). One image at a time is then as parallel as it gets, with no process to start."""
    from pydicom.pixels import get_decoder

    try:
        plugins = get_decoder(uid).available_plugins if uid in JPEG_2000 else ()
    except NotImplementedError:
        return False
    return bool(plugins) and plugins[0] == "gdcm"


def _decode_stored(ds: Dataset, index: int, path: str | None, plugin: str = "") -> np.ndarray:
    """Stored values of one frame in native byte order, colour converted to RGB."""
    from pydicom.pixels import pixel_array

    uid = str(ds.file_meta.TransferSyntaxUID)
    if _needs_dcmtk(ds) and path is not None:
        return _decode_with_dcmtk(path, uid)[index]
    if _needs_dcmtk(ds):
        raise UnsupportedTransferSyntaxError(unsupported_message(uid, twelve_bit=True))
    frame_index = index if number_of_frames(ds) > 1 else None
    if plugin:
        try:
            return _native(pixel_array(ds, index=frame_index, decoding_plugin=plugin))
        except (RuntimeError, ValueError, NotImplementedError, AttributeError, KeyError):
            pass  # the preferred plugin failed: try them all, in pydicom's order
    try:
        arr = pixel_array(ds, index=frame_index)
    except ValueError as exc:
        raise _damaged_error(ds, exc) from exc
    except (RuntimeError, NotImplementedError, AttributeError, KeyError) as exc:
        if path is not None and uid in DCMTK_DECODERS and shutil.which(DCMTK_DECODERS[uid]):
            return _decode_with_dcmtk(path, uid)[index]
        raise _damaged_error(ds, exc) from exc
    return _native(arr)


def _native(arr: np.ndarray) -> np.ndarray:
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _needs_dcmtk(ds: Dataset) -> bool:
    """12-bit JPEG (processes 2 and 4): no installed non-GPL pydicom plugin decodes it."""
    from pydicom.uid import JPEGExtended12Bit

    return ds.file_meta.TransferSyntaxUID == JPEGExtended12Bit and int(ds.BitsStored or 8) > 8


def _damaged_error(ds: Dataset, exc: Exception) -> DicomError:
    uid = str(ds.file_meta.TransferSyntaxUID)
    detail = " ".join(str(exc).split())[:300]
    if "less than expected" in detail or "shorter" in detail:
        return DicomError(
            "The pixel data is shorter than the image description says: the file is truncated "
            f"or damaged ({detail}). Copy it again from the original source."
        )
    return DicomError(
        f"The {syntax_label(uid)} pixel data of this file is damaged and could not be "
        f"decoded ({detail}). Copy it again from the original source."
    )


@functools.lru_cache(maxsize=2)
def _decode_with_dcmtk(path: str, uid: str) -> np.ndarray:
    """All frames of ``path`` via dcmtk (dcmdjpeg/dcmdjpls/dcmdrle), as (frames, rows, cols[, 3])."""
    from pydicom.pixels import pixel_array

    tool = DCMTK_DECODERS.get(uid, "")
    exe = shutil.which(tool) if tool else None
    if exe is None:
        raise UnsupportedTransferSyntaxError(unsupported_message(uid, twelve_bit=True))
    with tempfile.TemporaryDirectory(prefix="stethoscan-dcmtk-") as folder:
        out = os.path.join(folder, "decoded.dcm")
        result = subprocess.run([exe, path, out], capture_output=True, text=True, timeout=120)
        if result.returncode != 0 or not os.path.exists(out):
            raise DicomError(
                f"The {syntax_label(uid)} pixel data of this file is damaged and could not be "
                f"decoded ({tool}: {result.stderr.strip()[:200]})."
            )
        arr = _native(pixel_array(out))
    frames = arr.shape[0] if arr.ndim == 4 or (arr.ndim == 3 and arr.shape[-1] != 3) else 1
    return arr if frames > 1 else arr[np.newaxis]


# --- value transforms ----------------------------------------------------------------------
def _frame_group_item(ds: Dataset, index: int, sequence: str) -> Any:
    """The functional-group item ``sequence`` for frame ``index`` (per-frame, else shared)."""
    for groups, pick in (("PerFrameFunctionalGroupsSequence", index),
                         ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(groups)
        if items and pick < len(items) and items[pick].get(sequence):
            return items[pick].get(sequence)[0]
    return None


def frame_rescale(ds: Dataset, index: int = 0) -> tuple[float, float]:
    """(slope, intercept) of the modality rescale for frame ``index``.

    Enhanced multi-frame objects keep it in the Pixel Value Transformation functional group;
    RT Dose stores Dose Grid Scaling (Gy per stored unit) instead.
    """
    item = _frame_group_item(ds, index, "PixelValueTransformationSequence") or ds
    slope = number(item.get("RescaleSlope")) or 1.0
    intercept = number(item.get("RescaleIntercept")) or 0.0
    if "DoseGridScaling" in ds and "RescaleSlope" not in item:
        slope = number(ds.get("DoseGridScaling")) or 1.0
    return slope, intercept  # a zero slope was read as absent


def frame_window(ds: Dataset, index: int = 0) -> tuple[float, float] | None:
    """The default (center, width) for frame ``index``, physical units, or None.

    The first Window Center and Width when the file has them; otherwise the window equivalent
    to the first VOI LUT Sequence item (PS3.3 C.11.2), as evaluated by pydicom.
    """
    item = _frame_group_item(ds, index, "FrameVOILUTSequence") or ds
    center, width = item.get("WindowCenter"), item.get("WindowWidth")
    center = _first_float(center)
    width = _first_float(width)
    if center is None or width is None or width <= 0:
        return _voi_lut_window(item) if item.get("VOILUTSequence") else None
    return center, width


def _voi_lut_window(item: Any) -> tuple[float, float] | None:
    """The linear window closest to the first VOI LUT of ``item``; None if it is unusable."""
    from pydicom.pixels import apply_voi

    from stethoscan.imaging.windowing import window_from_lut

    lut = item.VOILUTSequence[0]
    try:
        entries, first_mapped = int(lut.LUTDescriptor[0]) or 65536, int(lut.LUTDescriptor[1])
        inputs = np.arange(first_mapped, first_mapped + entries, dtype=np.int64)
        outputs = apply_voi(inputs, item, 0)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError, NotImplementedError):
        return None  # a damaged or unsupported VOI LUT: the automatic window is used instead
    return window_from_lut(inputs, outputs)


def modality_units(ds: Dataset) -> str:
    modality = str(ds.get("Modality", "")).upper()
    if modality == "CT":
        return "HU"
    if modality == "RTDOSE":
        return str(ds.get("DoseUnits", "GY")).title()
    if modality == "PT":
        return str(ds.get("Units", ""))
    return ""


def _first_float(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
    return number(value)


def _apply_modality_lut_sequence(image: DecodedImage, ds: Dataset) -> DecodedImage:
    from pydicom.pixels import apply_modality_lut

    try:
        values = apply_modality_lut(image.pixels, ds)
    except (ValueError, AttributeError, KeyError, IndexError) as exc:
        raise DicomError(f"The Modality LUT of this file is invalid ({exc}).") from exc
    image.pixels = np.ascontiguousarray(values)
    image.slope, image.intercept = 1.0, 0.0
    return image


def _rgb_to_uint8(arr: np.ndarray, ds: Dataset) -> np.ndarray:
    """RGB with 8, 16 or 32 bits per sample to uint8 (keeps the most significant bits)."""
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    bits = int(ds.get("BitsStored") or arr.dtype.itemsize * 8)
    shift = max(bits - 8, 0)
    return np.ascontiguousarray((arr.astype(np.uint64) >> shift).clip(0, 255).astype(np.uint8))


def _apply_palette(stored: np.ndarray, ds: Dataset) -> np.ndarray:
    """Palette colour to RGB uint8 (16-bit LUT entries scaled by their own range)."""
    from pydicom.pixels import apply_color_lut

    try:
        rgb = apply_color_lut(stored, ds)[..., :3]
        descriptor = ds.RedPaletteColorLookupTableDescriptor
        entries = int(descriptor[0]) or 65536
        table = apply_color_lut(np.arange(int(descriptor[1]), int(descriptor[1]) + entries), ds)
    except (ValueError, AttributeError, KeyError, TypeError) as exc:
        raise DicomError(f"The palette colour table of this file is invalid ({exc}).") from exc
    if rgb.dtype != np.uint8 and int(table.max()) > 255:
        rgb = rgb >> 8
    return np.ascontiguousarray(rgb.astype(np.uint8))
