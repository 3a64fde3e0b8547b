"""The fast reader for uncompressed series: pixel bytes read straight into the volume.

The reference file (the first slice) is parsed by pydicom. Every other file is accepted for a
raw read only when its header holds, byte for byte and exactly once, the reference's encoded
image-pixel and rescale elements and its transfer syntax, holds none of the elements the
reference lacks, and ends with the same Pixel Data element header at the same distance from
the end of the file (first tier). Otherwise pydicom parses its header only and the same raw read
follows when the image elements match (second tier); anything else goes to the full decoder.
"""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stethoscan.imaging.model import InstanceRef, SeriesInfo
from stethoscan.imaging.parallel_decoding import run_parallel
from stethoscan.imaging.pixel_decoding import DecodedImage, frame_rescale
from stethoscan.imaging.slice_writer import LoadProgress, SliceWriter

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"
_LAYOUT_TAGS = (0x00280002, 0x00280004, 0x00280008, 0x00280010, 0x00280011, 0x00280100,
                0x00280101, 0x00280103, 0x00283000)
_RESCALE_TAGS = (0x00281052, 0x00281053, 0x30040004, 0x3004000E)


@dataclass(frozen=True)
class RawLayout:
    """What every file of an uncompressed series must share for its bytes to be read raw."""

    transfer_syntax: str
    signature: tuple  # raw (undecoded) values of the image pixel elements
    rescale_signature: tuple  # raw values of the rescale elements of the reference file
    rescale: tuple[float, float]
    dtype: np.dtype
    shape: tuple[int, int]
    bits_stored: int
    encoded_elements: tuple[bytes, ...]  # exact bytes each header must contain once
    absent_tags: tuple[bytes, ...]  # encoded tags each header must not contain
    pixel_header: bytes  # the Pixel Data element's tag, VR and length as encoded

    @property
    def frame_bytes(self) -> int:
        return self.shape[0] * self.shape[1] * self.dtype.itemsize


@dataclass
class _RawResult:
    pixels: np.ndarray | None  # None: written straight into `into`
    slope: float
    intercept: float
    into: np.ndarray | None = None  # the voxel array written into


def _raw_values(ds: Dataset, tags: tuple[int, ...]) -> tuple:
    """Undecoded element values: comparing them costs no conversion."""
    return tuple(ds.get_item(t).value if t in ds else None for t in tags)


def _header(fh) -> Dataset:
    import pydicom

    return pydicom.dcmread(fh, stop_before_pixels=True)


def fast_reader_layout(path: str, instances: list[InstanceRef]) -> RawLayout | None:
    """The raw layout when the series can be read without decoding, else None."""
    import io

    from pydicom.errors import InvalidDicomError

    if any(i.frame is not None for i in instances):
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        ds = _header(io.BytesIO(data))
    except (OSError, InvalidDicomError, ValueError, EOFError, KeyError, TypeError):
        return None
    signature = _raw_values(ds, _LAYOUT_TAGS)
    rescale_signature = _raw_values(ds, _RESCALE_TAGS)
    syntax = str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", ""))
    encoded, absent = _encoded_elements(ds, data, syntax)  # before any element is converted
    photometric = str(ds.get("PhotometricInterpretation", "")).strip()
    bits = int(ds.get("BitsAllocated") or 0)
    if (syntax not in _NATIVE_LITTLE_ENDIAN or photometric not in ("MONOCHROME1", "MONOCHROME2")
            or ds.get("SamplesPerPixel", 1) != 1 or ds.get("ModalityLUTSequence")
            or str(ds.get("NumberOfFrames", "1") or "1").strip() != "1" or bits not in (8, 16, 32)):
        return None
    dtype = np.dtype(f"<{'i' if int(ds.get('PixelRepresentation', 0)) == 1 else 'u'}{bits // 8}")
    shape = (int(ds.Rows), int(ds.Columns))
    pixel_header_len = 8 if syntax == "1.2.840.10008.1.2" else 12
    pixel_at = len(data) - shape[0] * shape[1] * dtype.itemsize - pixel_header_len
    return RawLayout(syntax, signature, rescale_signature, frame_rescale(ds, 0), dtype, shape,
                      int(ds.get("BitsStored") or bits), encoded, absent,
                      data[pixel_at:pixel_at + pixel_header_len] if pixel_at > 0 else b"")


def _encoded_elements(ds: Dataset, data: bytes, syntax: str
                      ) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Exact encodings of the reference's layout and rescale elements, and absent tags."""
    encoded = [b"\x02\x00\x10\x00UI" + len(_padded(syntax)).to_bytes(2, "little")
               + _padded(syntax)]
    absent = []
    for tag in (*_LAYOUT_TAGS, *_RESCALE_TAGS):
        tag_bytes = (tag >> 16).to_bytes(2, "little") + (tag & 0xFFFF).to_bytes(2, "little")
        if tag not in ds:
            absent.append(tag_bytes)
            continue
        raw = ds.get_item(tag)
        start = getattr(raw, "value_tell", None)
        length = getattr(raw, "length", None)
        if start is None or length is None or length == 0xFFFFFFFF:
            absent.append(b"\xff" * 8)  # cannot be matched: no file passes the first tier
            continue
        encoded.append(data[start - 8:start + length])  # short-VR and implicit headers: 8 bytes
    return tuple(encoded), tuple(absent)


def _padded(uid: str) -> bytes:
    raw = uid.encode("ascii")
    return raw + b"\x00" if len(raw) % 2 else raw


def read_raw_slices(series: SeriesInfo, indices: list[int], layout: RawLayout,
                    writer: SliceWriter, reporter: LoadProgress, workers: int) -> list[int]:
    """Read what the fast reader can; return the slice indices left for the full decoder."""
    volume = writer.volume

    def job(k: int) -> _RawResult | None:
        direct = volume.voxels.dtype == layout.dtype and writer.accepts_raw(*layout.rescale)
        path = series.instances[k].path
        target = volume.voxels if direct else None
        return _read_verified_bytes(path, layout, target, k) or _read_parsed_header(
            path, layout, target, k)

    left: list[int] = []
    with closing(run_parallel(job, indices, workers)) as results:
        for k, result in results:
            if _place_raw(k, result, writer):
                reporter.advance()
            else:
                left.append(k)
    return left


def _place_raw(k: int, result: _RawResult | OSError | None, writer: SliceWriter) -> bool:
    """Put a raw read into the volume; False when the file needs the full decoder."""
    volume = writer.volume
    if result is None:
        return False
    if isinstance(result, OSError):
        writer.fail(k, result)
    elif result.pixels is None and result.into is volume.voxels:
        writer.mark_loaded(k)
    else:  # read aside, or straight in before the volume switched to physical values
        pixels = result.pixels if result.pixels is not None else result.into[k]
        writer.put(k, DecodedImage(pixels, result.slope, result.intercept))
    return True


def _read_verified_bytes(path: str, layout: RawLayout, voxels: np.ndarray | None, k: int
                         ) -> _RawResult | None:
    """First tier: header bytes checked against the reference, pixels read raw."""
    if not layout.pixel_header:
        return None
    with open(path, "rb", buffering=0) as fh:
        header_len = os.fstat(fh.fileno()).st_size - layout.frame_bytes
        if header_len <= len(layout.pixel_header):
            return None
        header = fh.read(header_len)
        if not _header_matches(header, layout):
            return None
        return _read_frame(fh, layout, voxels, k, layout.rescale)


def _header_matches(header: bytes, layout: RawLayout) -> bool:
    if not header.endswith(layout.pixel_header):
        return False
    body = memoryview(header)[: len(header) - len(layout.pixel_header)].tobytes()
    if any(body.count(element) != 1 for element in layout.encoded_elements):
        return False
    return not any(tag in body for tag in layout.absent_tags)


def _read_parsed_header(path: str, layout: RawLayout, voxels: np.ndarray | None, k: int
                        ) -> _RawResult | None:
    """Second tier: pydicom parses the header, the pixels are read raw; None if no match."""
    from pydicom.errors import InvalidDicomError

    with open(path, "rb") as fh:
        try:
            ds = _header(fh)
        except (InvalidDicomError, ValueError, EOFError, KeyError, TypeError):
            return None
        syntax = str(getattr(ds, "file_meta", {}).get("TransferSyntaxUID", ""))
        if (syntax != layout.transfer_syntax or _raw_values(ds, _LAYOUT_TAGS) != layout.signature
                or not _at_pixel_element(fh, layout)):
            return None
        same_rescale = _raw_values(ds, _RESCALE_TAGS) == layout.rescale_signature
        rescale = layout.rescale if same_rescale else frame_rescale(ds, 0)
        return _read_frame(fh, layout, voxels if same_rescale else None, k, rescale)


def _read_frame(fh, layout: RawLayout, voxels: np.ndarray | None, k: int,
                rescale: tuple[float, float]) -> _RawResult | None:
    """Read the pixel bytes at the file position into ``voxels[k]`` (or a new array when
    ``voxels`` is None); None when the file holds fewer bytes than one frame."""
    out = voxels[k] if voxels is not None else np.empty(layout.shape, dtype=layout.dtype)
    if fh.readinto(memoryview(out).cast("B")) != layout.frame_bytes:
        return None
    _mask_unused_bits(out, layout)
    return _RawResult(None if voxels is not None else out, *rescale, voxels)


def _at_pixel_element(fh, layout: RawLayout) -> bool:
    """Check the Pixel Data element header at the file position; leave fh at its value."""
    implicit = layout.transfer_syntax == "1.2.840.10008.1.2"
    header = fh.read(8 if implicit else 12)
    if header[:4] != _PIXEL_DATA_TAG:
        return False
    if not implicit and header[4:6] not in (b"OW", b"OB"):
        return False
    length = header[4:8] if implicit else header[8:12]
    return int.from_bytes(length, "little") == layout.frame_bytes


def _mask_unused_bits(values: np.ndarray, layout: RawLayout) -> None:
    """As pydicom does: unsigned values keep only Bits Stored bits, signed ones sign-extend."""
    unused = values.dtype.itemsize * 8 - layout.bits_stored
    if unused <= 0:
        return
    if values.dtype.kind == "u":
        values &= values.dtype.type((1 << layout.bits_stored) - 1)
    else:
        values <<= unused
        values >>= unused

