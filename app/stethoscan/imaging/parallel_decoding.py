"""Decode slices on a pool of threads, or of processes for long compressed series.

GDCM and pylibjpeg-openjpeg hold the GIL while they decode, so threads help only through the
decoders that release it; a long compressed series of single-frame files goes to one process per
free core instead. The number of decoders follows the 1-minute load average.
"""

from __future__ import annotations

import collections
import os
import threading
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
from typing import TYPE_CHECKING

from stethoscan.core.errors import DicomError
from stethoscan.imaging.model import InstanceRef, SeriesInfo
from stethoscan.imaging.pixel_decoding import DecodedImage, decode_file, decode_frame, read_dataset
from stethoscan.imaging.slice_writer import LoadProgress, SliceWriter, place_decoded

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

PROCESS_POOL_MIN_SLICES = 24  # fewer: starting decoder processes (~0.5 s) costs more than it saves
# native and deflated syntaxes: nothing for a decoder process to do
_UNCOMPRESSED = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
                 "1.2.840.10008.1.2.1.99")


def default_workers() -> int:
    """Decoders to run: one per core not already busy (1-minute load average), at least one;
    extra decoders on a saturated machine only compete with each other."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (OSError, AttributeError):  # no load average on this platform
        busy = 0.0
    return max(1, min(cores, round(cores - busy)))


def run_parallel(job: Callable[[int], object], indices: list[int], workers: int
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
                    yield k, result_or_error(future)
        finally:
            for future in running:
                future.cancel()


def result_or_error(future: Future) -> object:
    """The job's result, or the file error it raised (one bad file never stops the load)."""
    try:
        return future.result()
    except (DicomError, OSError) as exc:
        return exc


class DatasetCache:
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


def decode_slices(series: SeriesInfo, indices: list[int], datasets: DatasetCache,
                  writer: SliceWriter, reporter: LoadProgress, workers: int) -> None:
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

    with closing(run_parallel(job, indices, workers)) as results:
        for k, result in results:
            place_decoded(k, result, writer)
            reporter.advance()


def _decode_in_processes(series: SeriesInfo, indices: list[int], writer: SliceWriter,
                         reporter: LoadProgress, workers: int) -> list[int]:
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
                    place_decoded(k, _decode_here(series.instances[k].path), writer)
                    reporter.advance()
                    continue
                if not done:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    k = running.pop(future)
                    place_decoded(k, result_or_error(future), writer)
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


def use_decoder_processes(series: SeriesInfo, count: int, workers: int) -> bool:
    """Whether ``count`` slices of ``series`` are decoded in ``workers`` processes."""
    syntax = series.transfer_syntax_uid or series.instances[0].transfer_syntax_uid
    compressed = bool(syntax) and syntax not in _UNCOMPRESSED
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
