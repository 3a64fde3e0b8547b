"""Why a file is not a readable DICOM image: not DICOM at all, truncated or damaged.

Each check returns a sentence a clinician can act on, or '' when nothing is wrong. They work on
what :mod:`dicom_index` has parsed (the header up to the pixel data) plus the file's size, and
read no pixel values: encapsulated pixel data is walked item by item, native pixel data is
checked against the size the header implies.
"""

from __future__ import annotations

import os
import struct
from typing import TYPE_CHECKING, Any

from stethoscan.imaging.series_geometry import header_value, number

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_DEFLATED = "1.2.840.10008.1.2.1.99"
_ITEM = 0xE000FFFE  # (FFFE,E000) read as little-endian uint32
_SEQUENCE_END = 0xE0DDFFFE
_TRUNCATED_HEADER = ("Truncated DICOM file: the header ends early, so the file is incomplete. "
                     "Copy it again from the source.")
_IMPOSSIBLE_LENGTH = ("Damaged DICOM file: its header holds an element of impossible length, "
                      "so the rest of the file cannot be read.")
_LARGEST_HEADER_VALUE = 64 * 1024 * 1024  # bytes; a garbage 32-bit length is nearly always more
_MAGIC = (
    (b"PK\x03\x04", "a damaged or unsupported zip archive that could not be unpacked"),
    (b"\x1f\x8b", "a gzip-compressed file; unpack it first"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
    (b"\x5c\x01\x00\x00", "a NIfTI volume"),
    (b"RIFF", "a RIFF (e.g. WAV) file"),
)


def damaged_reason(exc: BaseException) -> str:
    """Why pydicom could not parse a header, from the exception it raised."""
    if isinstance(exc, EOFError | struct.error):
        return _TRUNCATED_HEADER
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return f"Damaged DICOM file: its header cannot be read ({detail})."


def looks_like_bare_dataset(head: bytes) -> bool:
    """A DICOM data set without preamble (old ACR-NEMA style) starts with a group 0008 tag."""
    if len(head) < 8:
        return False
    group_le, group_be = struct.unpack("<H", head[:2])[0], struct.unpack(">H", head[:2])[0]
    return 0x0008 in (group_le, group_be) or (group_le == 0x0002 and head[4:6].isalpha())


def not_dicom_reason(head: bytes) -> str:
    """Why a file is not DICOM, naming what it seems to be."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"Not a DICOM file: it is {what}."
    if head[:4] in (b"\x00\x00\x01\xac", b"\xac\x01\x00\x00") or head[36:40] == b"acsp":
        return "Not a DICOM file: it is a colour profile (ICC)."
    if _is_text(head):
        if head.lstrip()[:1] in (b"{", b"["):
            return "Not a DICOM file: it is a JSON text file."
        return "Not a DICOM file: it is a text file."
    return "Not a DICOM file: it has no DICOM header (no 'DICM' marker and no DICOM data set)."


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def header_problem(ds: Dataset, size: int) -> str:
    """Why a header without pixel data is incomplete or damaged, or ''.

    pydicom stops silently at the end of a file, even inside a value or an element header, so
    the last element is checked against the file size.
    """
    meta = getattr(ds, "file_meta", None)
    group_length = meta.get("FileMetaInformationGroupLength") if meta is not None else None
    if isinstance(group_length, int) and getattr(ds, "preamble", None) is not None:
        if 132 + 12 + group_length > size:
            return _TRUNCATED_HEADER
    deflated = meta is not None and meta.get("TransferSyntaxUID") == _DEFLATED
    for container in (meta, None if deflated else ds):
        if container is None or not len(container):
            continue
        last = container.get_item(max(container.keys()))
        raw, length = getattr(last, "value", None), getattr(last, "length", None)
        if not isinstance(raw, bytes) or not isinstance(length, int) or length == 0xFFFFFFFF:
            continue
        if len(raw) < length:
            return _IMPOSSIBLE_LENGTH if length > _LARGEST_HEADER_VALUE else _TRUNCATED_HEADER
        left_over = size - (getattr(last, "value_tell", size) + length)
        if container is ds and 0 < left_over < 8:  # the file ends inside an element header
            return _TRUNCATED_HEADER
    return ""


def describe_sop_class(sop_class: str) -> str:
    """Why an object without pixel data is not an image, naming what it is instead."""
    from pydicom.uid import UID

    name = UID(sop_class).name if sop_class else ""
    if not name or name == sop_class:
        return "Not an image: this DICOM file holds no pixel data."
    name = name.removesuffix(" Storage")
    kinds = (("SR", "a structured report"), ("Presentation State", "a presentation state"),
             ("Waveform", "a waveform recording"), ("Key Object", "a key image note"),
             ("RT Plan", "a radiotherapy plan"), ("RT Ion Plan", "a radiotherapy plan"),
             ("RT Structure", "a radiotherapy structure set"),
             ("Encapsulated", "an encapsulated document"), ("Raw Data", "raw data"))
    for marker, kind in kinds:
        if marker in name:
            return f"Not an image: {kind} ({name}), with no pixel data."
    if "Image" in name:
        return (f"This {name} file holds no pixel data (it may be cut off, or the image was "
                "removed), so there is no image to show.")
    return f"Not an image: a {name} object, with no pixel data."


def positive_int(value: Any) -> int | None:
    """A header value as a positive whole number, or None."""
    result = number(value)
    if result is None or not float(result).is_integer() or result < 1:
        return None
    return int(result)


def pixel_data_problem(ds: Dataset, pixel: dict, stream: Any, size: int, frames: int,
                       transfer_syntax: str) -> str:
    """Why the pixel data cannot be complete (truncated, empty, too short), or ''."""
    length = pixel["length"]
    if transfer_syntax == _DEFLATED:
        return ""  # the data set was inflated in memory; zlib already checked the stream
    if length == 0:
        return "The pixel data is empty: the file holds no image."
    if length == 0xFFFFFFFF:
        return _encapsulated_problem(stream, pixel["offset"], size, frames)
    expected = _native_bytes(ds, frames, pixel["tag"])
    available = size - pixel["offset"]
    if length > available:
        if expected and available >= expected:
            return (f"Damaged DICOM file: the header gives the pixel data {length} bytes, but "
                    f"the image size needs {expected} and the file holds {available}.")
        return (f"Truncated DICOM file: the pixel data stops after {available} of {length} "
                "bytes, so the file is incomplete. Copy it again from the source.")
    if expected and length < expected:
        return (f"The pixel data holds {length} bytes but the image size in the header needs "
                f"{expected}: the file is damaged.")
    return ""


def _native_bytes(ds: Dataset, frames: int, tag: int) -> int:
    rows, cols = positive_int(header_value(ds, "Rows")) or 0, positive_int(header_value(ds, "Columns")) or 0
    samples = positive_int(header_value(ds, "SamplesPerPixel") or 1) or 1
    bits = {0x7FE00008: 32, 0x7FE00009: 64}.get(tag) or positive_int(header_value(ds, "BitsAllocated"))
    bits = bits or 0
    if header_text(ds, "PhotometricInterpretation").startswith("YBR_FULL_422"):
        samples = 2  # two chroma values shared by each pair of pixels
    return (rows * cols * samples * frames * bits + 7) // 8


def _encapsulated_problem(stream: Any, offset: int, size: int, frames: int) -> str:
    """Walk the items of encapsulated pixel data: each must fit in the file, and end marked."""
    stream.seek(offset)
    fragments = -1  # the first item is the basic offset table
    while True:
        header = stream.read(8)
        if len(header) < 8:
            return ("Truncated DICOM file: the compressed pixel data ends without its end "
                    "marker, so the file is incomplete. Copy it again from the source.")
        tag, length = struct.unpack("<II", header)
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM:
            return "Damaged DICOM file: the compressed pixel data is not a valid item sequence."
        if stream.tell() + length > size:
            return ("Truncated DICOM file: the compressed pixel data stops in the middle of a "
                    "frame, so the file is incomplete. Copy it again from the source.")
        stream.seek(length, os.SEEK_CUR)
        fragments += 1
    if fragments < 1:
        return "The compressed pixel data holds no frames: the file holds no image."
    if fragments < frames:
        return (f"The compressed pixel data holds {fragments} fragments but the header "
                f"declares {frames} frames: the file is incomplete.")
    return ""


def header_text(ds: Dataset, keyword: str) -> str:
    """A header value as stripped text ('' when absent); multiple values joined by a backslash."""
    value = header_value(ds, keyword)
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1", errors="replace")
    elif isinstance(value, list):
        value = "\\".join(str(v) for v in value)
    return str(value).strip().strip("\x00")
