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
  one thread per free core (GIL-free decoders first: RLE, 8-bit JPEG). JPEG 2000 images up to
  1024 x 1024 are decoded one at a time by GDCM, which uses every core inside each image.
  JPEG-LS, lossless JPEG and larger JPEG 2000 images, whose decoders hold the GIL, go to
  decoder processes, started once (by the first long such series, or by
  :func:`start_decoder_pool` at program start) and reused warm by every later series.

The raw readers live in :mod:`raw_slice_reader`, the decoder pools in :mod:`parallel_decoding`.

A slice that cannot be decoded is left at 0 and listed in ``volume.warnings``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from stethoscan.core.errors import DicomError, SeriesGeometryError, UnsupportedTransferSyntaxError
from stethoscan.core.task import SilentTask, Task
from stethoscan.imaging.model import SeriesInfo
from stethoscan.imaging.parallel_decoding import (
    PROCESS_POOL_MIN_SLICES,
    DatasetCache,
    decode_slices,
    default_workers,
    shutdown_decoder_pool,
    start_decoder_pool,
    use_decoder_processes,
)
from stethoscan.imaging.pixel_decoding import DecodedImage, decode_frame
from stethoscan.imaging.raw_slice_reader import fast_reader_layout, read_raw_slices
from stethoscan.imaging.slice_writer import LoadProgress, SliceWriter
from stethoscan.imaging.volume import Volume
from stethoscan.imaging.windowing import auto_window

__all__ = ["PROCESS_POOL_MIN_SLICES", "default_workers", "load_volume", "shutdown_decoder_pool",
           "start_decoder_pool", "use_decoder_processes"]


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
    datasets = DatasetCache(series.instances)
    first, first_image, failures = _decode_first(series, first, datasets)
    volume = _allocate(series, first_image, count)
    writer = SliceWriter(volume, first_image)
    writer.put(first, first_image)
    task.partial((first, volume))
    task.check_cancelled()
    rest = [k for k in _outward_order(count, first) if k != first and k not in failures]
    reporter = LoadProgress(task, count, done=1 + len(failures))
    workers = workers or default_workers()
    fast = fast_reader_layout(series.instances[first].path, series.instances)
    if fast is not None:
        rest = read_raw_slices(series, rest, fast, writer, reporter, workers)
    decode_slices(series, rest, datasets, writer, reporter, workers)
    for k, reason in sorted({**failures, **writer.failures}.items()):
        volume.warnings.append(f"Slice {k + 1} could not be loaded and is shown blank: {reason}")
    _finish_window(volume, first_image)
    task.progress(1.0, f"Loaded {count} slices")
    return volume


# --- first slice, allocation, geometry -----------------------------------------------------
def _decode_first(series: SeriesInfo, first: int, datasets: DatasetCache
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
