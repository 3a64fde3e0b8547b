"""Build a :class:`Volume` from an indexed series, progressively and fast.

The requested slice (default: the middle one) is decoded first and handed over with
``task.partial((index, volume))`` while ``volume.voxels`` is still being filled; the viewer shows
it at once and picks up the other slices, nearest first, through ``volume.loaded``.

Readers for the rest, fastest first:

* uncompressed little-endian single-frame files whose header bytes hold the same image and
  rescale elements as the first file (checked byte for byte): the pixel bytes are read straight
  into the pre-allocated volume, no DICOM parsing per file;
* the same files when their headers differ: pydicom parses the header only, then the same raw
  read;
* everything else (compressed, big-endian, multi-frame, colour...): :mod:`pixel_decoding` on
  one thread per core, or one process per core for 24+ compressed files (GDCM and OpenJPEG hold
  the GIL).

A slice that cannot be decoded is left at 0 and listed in ``volume.warnings``.
"""

from __future__ import annotations

import collections
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stethoscan.core.errors import DicomError, SeriesGeometryError, UnsupportedTransferSyntaxError
from stethoscan.core.task import SilentTask, Task
from stethoscan.imaging.model import InstanceRef, SeriesInfo
from stethoscan.imaging.pixel_decoding import (
    DecodedImage,
    decode_file,
    decode_frame,
    frame_rescale,
    read_dataset,
)
from stethoscan.imaging.volume import Volume
from stethoscan.imaging.windowing import auto_window

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

_NATIVE_LITTLE_ENDIAN = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")
_PIXEL_DATA_TAG = b"\xe0\x7f\x10\x00"
PROCESS_POOL_MIN_SLICES = 24  # fewer: starting decoder processes (~0.5 s) costs more than it saves


def default_workers() -> int:
    """Decoders to run: one per core not already busy (1-minute load average), at least one;
    extra decoders on a saturated machine only compete with each other."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):  # no load average on this platform
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def load_volume(series: SeriesInfo, task: Task | None = None, first_index: int | None = None,
                workers: int | None = None) -> Volume:
    """Decode ``series`` into a :class:`Volume`, the slice ``first_index`` first.

    Raises
    ------
    SeriesGeometryError
        The series has no instances.
    DicomError, UnsupportedTransferSyntaxError
        Not one slice of the series could be decoded (the first reason is given).
    Cancelled
        The task was cancelled.
    """
    task = task or SilentTask()
    count = series.number_of_slices
    if count == 0:
        raise SeriesGeometryError("This series contains no images to load.")
    first = count // 2 if first_index is None else min(max(int(first_index), 0), count - 1)
    datasets = _DatasetCache(series.instances)
    first, first_image, failures = _decode_first(series, first, datasets)
    volume = _allocate(series, first_image, count)
    writer = _SliceWriter(volume, first_image)
    writer.put(first, first_image)
    task.partial((first, volume))
    task.check_cancelled()
    rest = [k for k in _outward_order(count, first) if k != first and k not in failures]
    reporter = _Progress(task, count, done=1 + len(failures))
    workers = workers or default_workers()
    fast = _fast_reader_layout(series.instances[first].path, series.instances)
    if fast is not None:
        rest = _read_raw_slices(series, rest, fast, writer, reporter, workers)
    _decode_slices(series, rest, datasets, writer, reporter, workers)
    for k, reason in sorted({**failures, **writer.failures}.items()):
        volume.warnings.append(f"Slice {k + 1} could not be loaded and is shown blank: {reason}")
    _finish_window(volume, first_image)
    task.progress(1.0, f"Loaded {count} slices")
    return volume


# --- first slice, allocation, geometry -----------------------------------------------------
def _decode_first(series: SeriesInfo, first: int, datasets: _DatasetCache
                  ) -> tuple[int, DecodedImage, dict[int, str]]:
    """Decode the requested slice, or the nearest one that decodes (up to 16 tries)."""
    failures: dict[int, str] = {}
    first_error: DicomError | None = None
    for k in itertools.islice(_outward_order(series.number_of_slices, first), 16):
        instance = series.instances[k]
        try:
            ds = datasets.get(instance.path)
            return k, decode_frame(ds, instance.frame, path=instance.path), failures
        except UnsupportedTransferSyntaxError:
            raise
        except DicomError as exc:
            failures[k] = str(exc)
            first_error = first_error or exc
    assert first_error is not None
    raise type(first_error)(f"The images of this series could not be decoded. {first_error}")


def _outward_order(count: int, start: int) -> Iterator[int]:
    """start, start+1, start-1, start+2, ... within [0, count): neighbours load first."""
    yield start
    for step in range(1, count):
        for k in (start + step, start - step):
            if 0 <= k < count:
                yield k


def _allocate(series: SeriesInfo, image: DecodedImage, count: int) -> Volume:
    shape = (count, *image.pixels.shape)
    # calloc'd: untouched pages cost nothing until a slice arrives; unloaded slices read as 0
    voxels = np.zeros(shape, dtype=image.pixels.dtype)
    spacing, origin, direction, warnings = _geometry(series, image)
    return Volume(
        voxels=voxels,
        spacing_mm=spacing,
        origin_mm=origin,
        direction=direction,
        slope=image.slope,
        intercept=image.intercept,
        modality=series.modality,
        units=image.units,
        photometric=image.photometric,
        series_uid=series.series_uid,
        default_window=image.window or (None if image.is_rgb else auto_window(
            image.pixels, image.slope, image.intercept)),
        loaded=np.zeros(count, dtype=bool),
        warnings=[*series.warnings, *warnings],
    )


def _geometry(series: SeriesInfo, image: DecodedImage):
    """(spacing, origin, direction, warnings) from orientation, positions and spacing."""
    warnings: list[str] = []
    first, last = series.instances[0], series.instances[-1]
    orientation = series.orientation or first.orientation
    direction = np.eye(3)
    if orientation is not None:
        row = np.asarray(orientation[:3], dtype=float)
        col = np.asarray(orientation[3:], dtype=float)
        row, col = row / np.linalg.norm(row), col / np.linalg.norm(col)
        normal = np.cross(row, col)
        if first.position_mm is not None and last.position_mm is not None:
            step = np.subtract(last.position_mm, first.position_mm)
            if float(np.dot(step, normal)) < 0:
                normal = -normal
        direction = np.column_stack([row, col, normal / np.linalg.norm(normal)])
    pixel = series.pixel_spacing_mm
    if pixel is None:
        pixel = (1.0, 1.0)
        warnings.append("The images carry no pixel spacing: distances are in pixels, not mm.")
    slice_mm = series.slice_spacing_mm or _spacing_from_positions(series, direction[:, 2])
    if slice_mm is None:
        slice_mm = 1.0
        if series.number_of_slices > 1:
            warnings.append("The slice spacing is unknown: 1 mm is assumed between slices.")
    origin = tuple(float(v) for v in first.position_mm) if first.position_mm else (0.0, 0.0, 0.0)
    spacing = (float(slice_mm), float(pixel[0]), float(pixel[1]))
    return spacing, origin, direction, warnings


def _spacing_from_positions(series: SeriesInfo, normal: np.ndarray) -> float | None:
    positions = [i.position_mm for i in series.instances if i.position_mm is not None]
    if len(positions) < 2 or len(positions) != series.number_of_slices:
        return None
    extent = abs(float(np.dot(np.subtract(positions[-1], positions[0]), normal)))
    return extent / (len(positions) - 1) if extent > 0 else None


def _finish_window(volume: Volume, first_image: DecodedImage) -> None:
    """Without a window in the files, refine the automatic one on up to 32 loaded slices."""
    if volume.is_rgb or first_image.window is not None:
        return
    loaded = np.flatnonzero(volume.loaded) if volume.loaded is not None else np.arange(
        volume.shape[0])
    if loaded.size:
        sample = volume.voxels[loaded[:: max(1, loaded.size // 32)]]
        volume.default_window = auto_window(sample, volume.slope, volume.intercept)


# --- writing slices ------------------------------------------------------------------------
class _SliceWriter:
    """Puts decoded slices into the volume, keeping one stored type and one rescale.

    When a slice's rescale differs from the volume's (e.g. PET with per-slice slopes) or its
    values do not fit the stored type, the volume switches once to float32 physical values.
    """

    def __init__(self, volume: Volume, first: DecodedImage) -> None:
        self.volume = volume
        self.failures: dict[int, str] = {}
        self._shape = first.pixels.shape

    @property
    def physical(self) -> bool:
        return self.volume.voxels.dtype == np.float32 and self.volume.slope == 1.0 and (
            self.volume.intercept == 0.0)

    def accepts_raw(self, slope: float, intercept: float) -> bool:
        """Whether raw stored values with this rescale can go straight into the volume."""
        v = self.volume
        return (slope, intercept) == (v.slope, v.intercept) and v.voxels.dtype != np.float32

    def put(self, k: int, image: DecodedImage) -> None:
        if image.pixels.shape != self._shape:
            self.failures[k] = (f"its size {image.pixels.shape} differs from the series "
                                f"{self._shape}.")
            return
        v = self.volume
        if not self._fits(image):
            self._switch_to_physical()
        if v.is_rgb or self._same_rescale(image):
            v.voxels[k] = image.pixels
        else:
            v.voxels[k] = image.pixels.astype(np.float32) * np.float32(image.slope) + np.float32(
                image.intercept)
        v.loaded[k] = True

    def mark_loaded(self, k: int) -> None:
        self.volume.loaded[k] = True

    def _same_rescale(self, image: DecodedImage) -> bool:
        return (image.slope, image.intercept) == (self.volume.slope, self.volume.intercept)

    def _fits(self, image: DecodedImage) -> bool:
        v = self.volume
        if v.is_rgb or (v.voxels.dtype == np.float32 and self.physical):
            return True
        if not self._same_rescale(image):
            return False
        target, source = v.voxels.dtype, image.pixels.dtype
        if np.can_cast(source, target, casting="safe"):
            return True
        if source.kind not in "iu" or target.kind not in "iu":
            return False
        info = np.iinfo(target)
        return bool(image.pixels.min() >= info.min and image.pixels.max() <= info.max)

    def _switch_to_physical(self) -> None:
        v = self.volume
        if self.physical:
            return
        physical = np.zeros(v.voxels.shape, dtype=np.float32)
        for k in np.flatnonzero(v.loaded):
            physical[k] = v.voxels[k] * np.float32(v.slope) + np.float32(v.intercept)
        v.voxels, v.slope, v.intercept = physical, 1.0, 0.0


class _Progress:
    """Rate-limited progress (at most every 50 ms) plus cancellation checks."""

    def __init__(self, task: Task, total: int, done: int) -> None:
        self.task, self.total, self.done = task, total, done
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.task.check_cancelled()
        now = time.monotonic()
        if now - self._last >= 0.05:
            self._last = now
            self.task.progress(self.done / self.total, f"Loading slice {self.done} of {self.total}")


# --- parallel runner -----------------------------------------------------------------------
def _run_parallel(job: Callable[[int], object], indices: list[int], workers: int
                  ) -> Iterator[tuple[int, object | DicomError | OSError]]:
    """Run ``job(k)`` for each k on ``workers`` threads, yielding (k, result or error) as they
    finish; at most 4 jobs per worker are queued, so a cancel stops quickly."""
    if not indices:
        return
    pending = iter(indices)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stethoscan-load") as pool:
        running: dict[Future, int] = {}
        try:
            while True:
                while len(running) < 4 * workers and (k := next(pending, None)) is not None:
                    running[pool.submit(job, k)] = k
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    k = running.pop(future)
                    yield k, _result_or_error(future)
        finally:
            for future in running:
                future.cancel()


def _result_or_error(future: Future) -> object:
    try:
        return future.result()
    except (DicomError, OSError) as exc:
        return exc


# --- fast reader for uncompressed files ----------------------------------------------------
# The reference file (the first slice) is parsed by pydicom. Every other file is accepted for a
# raw read only when its header holds, byte for byte and exactly once, the reference's encoded
# image-pixel and rescale elements and its transfer syntax, holds none of the elements the
# reference lacks, and ends with the same Pixel Data element header at the same distance from
# the end of the file. Anything else is parsed by pydicom (second tier) or fully decoded.
_LAYOUT_TAGS = (0x00280002, 0x00280004, 0x00280008, 0x00280010, 0x00280011, 0x00280100,
                0x00280101, 0x00280103, 0x00283000)
_RESCALE_TAGS = (0x00281052, 0x00281053, 0x30040004, 0x3004000E)


@dataclass(frozen=True)
class _RawLayout:
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


def _fast_reader_layout(path: str, instances: list[InstanceRef]) -> _RawLayout | None:
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
    return _RawLayout(syntax, signature, rescale_signature, frame_rescale(ds, 0), dtype, shape,
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


def _read_raw_slices(series: SeriesInfo, indices: list[int], layout: _RawLayout,
                     writer: _SliceWriter, reporter: _Progress, workers: int) -> list[int]:
    """Read what the fast reader can; return the slice indices left for the full decoder."""
    volume = writer.volume

    def job(k: int) -> _RawResult | None:
        direct = volume.voxels.dtype == layout.dtype and writer.accepts_raw(*layout.rescale)
        path = series.instances[k].path
        target = volume.voxels if direct else None
        return _read_verified_bytes(path, layout, target, k) or _read_parsed_header(
            path, layout, target, k)

    left: list[int] = []
    with closing(_run_parallel(job, indices, workers)) as results:
        for k, result in results:
            if _place_raw(k, result, writer):
                reporter.advance()
            else:
                left.append(k)
    return left


def _place_raw(k: int, result: _RawResult | OSError | None, writer: _SliceWriter) -> bool:
    """Put a raw read into the volume; False when the file needs the full decoder."""
    volume = writer.volume
    if result is None:
        return False
    if isinstance(result, OSError):
        writer.failures[k] = f"the file could not be read ({result.strerror or result})."
    elif result.pixels is None and result.into is volume.voxels:
        writer.mark_loaded(k)
    else:  # read aside, or straight in before the volume switched to physical values
        pixels = result.pixels if result.pixels is not None else result.into[k]
        writer.put(k, DecodedImage(pixels, result.slope, result.intercept))
    return True


def _read_verified_bytes(path: str, layout: _RawLayout, voxels: np.ndarray | None, k: int
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
        out = voxels[k] if voxels is not None else np.empty(layout.shape, dtype=layout.dtype)
        if fh.readinto(memoryview(out).cast("B")) != layout.frame_bytes:
            return None
    _mask_unused_bits(out, layout)
    slope, intercept = layout.rescale
    return _RawResult(None if voxels is not None else out, slope, intercept, voxels)


def _header_matches(header: bytes, layout: _RawLayout) -> bool:
    if not header.endswith(layout.pixel_header):
        return False
    body = memoryview(header)[: len(header) - len(layout.pixel_header)].tobytes()
    if any(body.count(element) != 1 for element in layout.encoded_elements):
        return False
    return not any(tag in body for tag in layout.absent_tags)


def _read_parsed_header(path: str, layout: _RawLayout, voxels: np.ndarray | None, k: int
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
        slope, intercept = layout.rescale if same_rescale else frame_rescale(ds, 0)
        direct = voxels is not None and same_rescale
        out = voxels[k] if direct else np.empty(layout.shape, dtype=layout.dtype)
        if fh.readinto(memoryview(out).cast("B")) != layout.frame_bytes:
            return None
    _mask_unused_bits(out, layout)
    return _RawResult(None if direct else out, slope, intercept, voxels if direct else None)


def _at_pixel_element(fh, layout: _RawLayout) -> bool:
    """Check the Pixel Data element header at the file position; leave fh at its value."""
    implicit = layout.transfer_syntax == "1.2.840.10008.1.2"
    header = fh.read(8 if implicit else 12)
    if header[:4] != _PIXEL_DATA_TAG:
        return False
    if not implicit and header[4:6] not in (b"OW", b"OB"):
        return False
    length = header[4:8] if implicit else header[8:12]
    return int.from_bytes(length, "little") == layout.frame_bytes


def _mask_unused_bits(values: np.ndarray, layout: _RawLayout) -> None:
    """As pydicom does: unsigned values keep only Bits Stored bits, signed ones sign-extend."""
    unused = values.dtype.itemsize * 8 - layout.bits_stored
    if unused <= 0:
        return
    if values.dtype.kind == "u":
        values &= values.dtype.type((1 << layout.bits_stored) - 1)
    else:
        values <<= unused
        values >>= unused


# --- full decoder --------------------------------------------------------------------------
class _DatasetCache:
    """Datasets of files that hold several frames of the series, read once and shared."""

    def __init__(self, instances: Iterable[InstanceRef]) -> None:
        seen: dict[str, int] = {}
        for inst in instances:
            seen[inst.path] = seen.get(inst.path, 0) + 1
        self._shared = {p for p, n in seen.items() if n > 1}
        self._cache: dict[str, Dataset] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> Dataset:
        if path not in self._shared:
            return read_dataset(path)
        with self._lock:
            if path not in self._cache:
                self._cache[path] = read_dataset(path)
            return self._cache[path]


def _decode_slices(series: SeriesInfo, indices: list[int], datasets: _DatasetCache,
                   writer: _SliceWriter, reporter: _Progress, workers: int) -> None:
    """Decode on ``workers`` threads, or processes for long compressed series.

    GDCM and pylibjpeg-openjpeg hold the GIL while they decode, so threads help only through
    the decoders that release it (Pillow for JPEG and JPEG 2000, pylibjpeg-rle), which are then
    tried first. A compressed series of single-frame files is decoded in processes instead,
    when the program's main module can be started safely in a child process.
    """
    if use_decoder_processes(series, len(indices), workers):
        indices, workers = _decode_in_processes(series, indices, writer, reporter, workers), 1

    def job(k: int) -> DecodedImage:
        instance = series.instances[k]
        return decode_frame(datasets.get(instance.path), instance.frame, path=instance.path,
                            threads=workers)

    with closing(_run_parallel(job, indices, workers)) as results:
        for k, result in results:
            _place_decoded(k, result, writer)
            reporter.advance()


def _decode_in_processes(series: SeriesInfo, indices: list[int], writer: _SliceWriter,
                         reporter: _Progress, workers: int) -> list[int]:
    """Decode in ``workers`` spawned processes. Until the first child is ready (Python, numpy,
    pydicom, GDCM: about 1 s) this thread decodes too, with a decoder that releases the GIL
    where there is one, so that the pool's feeder thread keeps running. Returns the slices
    left undone if the pool broke (a child failed to start or a decoder crashed it)."""
    import multiprocessing

    pending = collections.deque(indices)
    running: dict[Future, int] = {}
    children_ready = False
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        try:
            while pending or running:
                while pending and len(running) < 2 * workers:
                    k = pending.popleft()
                    running[pool.submit(decode_file, series.instances[k].path)] = k
                done = [future for future in running if future.done()]
                children_ready = children_ready or bool(done)
                if not children_ready and pending:
                    k = pending.popleft()
                    _place_decoded(k, _decode_here(series.instances[k].path), writer)
                    reporter.advance()
                    continue
                if not done:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    k = running.pop(future)
                    _place_decoded(k, _result_or_error(future), writer)
                    reporter.advance()
        except BrokenProcessPool:
            return sorted({*pending, *running.values()})
        finally:
            for future in running:
                future.cancel()
    return []


def _decode_here(path: str) -> object:
    try:
        return decode_file(path, threads=2)  # prefer a decoder that releases the GIL
    except (DicomError, OSError) as exc:
        return exc


def _place_decoded(k: int, result: object, writer: _SliceWriter) -> None:
    if isinstance(result, DecodedImage):
        writer.put(k, result)
    elif isinstance(result, OSError):
        writer.failures[k] = f"the file could not be read ({result.strerror or result})."
    else:
        writer.failures[k] = str(result)


def use_decoder_processes(series: SeriesInfo, count: int, workers: int) -> bool:
    """Whether ``count`` slices of ``series`` are decoded in ``workers`` processes."""
    syntax = series.transfer_syntax_uid or series.instances[0].transfer_syntax_uid
    compressed = bool(syntax) and syntax not in (*_NATIVE_LITTLE_ENDIAN, "1.2.840.10008.1.2.2",
                                                 "1.2.840.10008.1.2.1.99")
    return (compressed and workers > 1 and count >= PROCESS_POOL_MIN_SLICES
            and all(i.frame is None for i in series.instances) and _spawn_is_safe())


def _spawn_is_safe() -> bool:
    """A spawned child re-imports the main script; that is safe for Stethoscan's own entry
    points, pytest and interactive sessions, but could re-run an unguarded user script."""
    import sys

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    spec_name = getattr(getattr(main, "__spec__", None), "name", "") or ""
    if path is None:
        return True
    return spec_name.startswith(("stethoscan", "pytest")) or os.path.basename(path) in (
        "stethoscan", "pytest", "py.test", "__main__.py")
