"""Decode slices on a pool of threads, or of processes for compressed series.

JPEG 2000 images up to 1024 x 1024 go to GDCM one at a time: GDCM runs OpenJPEG's own thread
pool on every core within each image, which measured faster than decoding several images at
once in processes. Larger ones go to processes, as GDCM would hold the GIL (and stall the GUI)
for most of a second per image. Other decoders work on one core. Threads help only through those that release the GIL
(pylibjpeg-rle for RLE, Pillow for 8-bit JPEG); JPEG-LS and lossless JPEG (GDCM, GIL held), and
JPEG 2000 where GDCM is missing, are decoded in processes instead.

Starting a decoder process (Python, numpy, pydicom, GDCM) takes 0.5-3 s on a busy machine, so
the processes are shared and kept: the first long series (24+ files) starts them, or the
program does at start-up with :func:`start_decoder_pool`; every later such series, short
ones too, reuses them warm. :func:`shutdown_decoder_pool` stops them (also run at exit). The
number of decoders in use follows the 1-minute load average.
"""

from __future__ import annotations

import atexit
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
from stethoscan.imaging.pixel_decoding import (
    DecodedImage,
    decode_file,
    decode_frame,
    gil_free_plugin,
    read_dataset,
    threads_within_each_image,
)
from stethoscan.imaging.slice_writer import LoadProgress, SliceWriter, place_decoded

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

PROCESS_POOL_MIN_SLICES = 24  # fewer: starting cold decoder processes costs more than it saves
PROCESS_POOL_MIN_PIXELS = PROCESS_POOL_MIN_SLICES * 512 * 512  # the same work in larger images
# GDCM holds the GIL for a whole image: above this size (about 0.3 s a slice on a busy 2-core
# machine, 1 s at 2048 x 2048) the GUI would stall, so larger images go to decoder processes
IN_PROCESS_MAX_PIXELS = 1024 * 1024
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
    """Decode on ``workers`` threads, or decoder processes (:func:`use_decoder_processes`).

    On threads, a decoder that releases the GIL is tried first where one is installed.
    """
    if _threads_within_each_image(series):
        workers = 1  # the decoder already uses every core on each image
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
    """Decode on the shared decoder processes, starting them if they are not running (they
    then stay for later series). Until the first child answers, this thread decodes too.
    Returns the slices left undone if the pool broke (a child failed to start or crashed)."""
    if not start_decoder_pool():
        return indices
    pool = _shared_pool
    left = _feed_pool(pool, series, indices, writer, reporter, workers) if pool else indices
    if left:
        shutdown_decoder_pool()  # broken: the next series starts fresh processes
    return left


def _feed_pool(pool: ProcessPoolExecutor, series: SeriesInfo, indices: list[int],
               writer: SliceWriter, reporter: LoadProgress, workers: int) -> list[int]:
    pending = collections.deque(indices)
    running: dict[Future, int] = {}
    # large images are left to the children even while they start: here they would hold the GIL
    children_ready = _shared_pool_ready.is_set() or (
        (series.rows or 0) * (series.columns or 0) > IN_PROCESS_MAX_PIXELS)
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
            future.cancel()  # a cancelled load leaves the warm pool running, idle
    return []


def _decode_here(path: str) -> object:
    try:
        return decode_file(path)
    except (DicomError, OSError) as exc:
        return exc


# --- the shared, warm decoder processes ------------------------------------------------------
_shared_pool: ProcessPoolExecutor | None = None
_shared_pool_ready = threading.Event()
_shared_pool_lock = threading.Lock()
_exit_hook_registered = False


def _new_pool(processes: int) -> ProcessPoolExecutor:
    import multiprocessing

    return ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context(
        "spawn"), initializer=_import_decoders)


def _import_decoders() -> None:
    """Run in each child as it starts: import the decoders before the first slice arrives."""
    import contextlib

    import pydicom.pixels  # noqa: F401

    for module in ("gdcm", "openjpeg", "rle", "PIL.Image"):
        with contextlib.suppress(ImportError):
            __import__(module)


def start_decoder_pool(processes: int | None = None) -> bool:
    """Start the shared decoder processes (one per core) without waiting for them; later
    compressed series reuse them. Returns False where spawning is unsafe (see
    :func:`use_decoder_processes`). They stop at exit or on :func:`shutdown_decoder_pool`.
    """
    global _shared_pool, _exit_hook_registered
    with _shared_pool_lock:
        if _shared_pool is not None:
            return True
        if not _spawn_is_safe():
            return False
        count = processes or os.cpu_count() or 1
        if not _exit_hook_registered:
            atexit.register(shutdown_decoder_pool)
            _exit_hook_registered = True
        _shared_pool_ready.clear()
        _shared_pool = _new_pool(count)
        warm = [_shared_pool.submit(os.getpid) for _ in range(count)]  # starts every child
        threading.Thread(target=_mark_ready, args=(_shared_pool, warm), name="stethoscan-decoder-start",
                         daemon=True).start()
        return True


def _mark_ready(pool: ProcessPoolExecutor, warm: list[Future]) -> None:
    wait(warm)
    with _shared_pool_lock:
        if _shared_pool is pool:
            _shared_pool_ready.set()


def wait_for_decoder_pool(timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for every shared decoder process to have started."""
    return _shared_pool is not None and _shared_pool_ready.wait(timeout_s)


def decoder_pool_is_warm() -> bool:
    """Whether the shared decoder processes are running and have all answered."""
    return _shared_pool is not None and _shared_pool_ready.is_set()


def decoder_pool_pids() -> list[int]:
    """Process ids of the shared decoder processes (for CPU-time accounting)."""
    pool = _shared_pool
    return [p.pid for p in (getattr(pool, "_processes", None) or {}).values() if p.pid]


def shutdown_decoder_pool() -> None:
    """Stop the shared decoder processes (waits for them to exit); safe to call twice."""
    global _shared_pool
    with _shared_pool_lock:
        pool, _shared_pool = _shared_pool, None
        _shared_pool_ready.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def use_decoder_processes(series: SeriesInfo, count: int, workers: int) -> bool:
    """Whether ``count`` slices of ``series`` are decoded in ``workers`` processes: a compressed
    series of single-frame files whose decoder neither releases the GIL nor threads each image
    itself, when more than one decoder may run and spawning is safe; 24+ slices, or any number
    when the shared pool is warm."""
    syntax = _syntax(series)
    compressed = bool(syntax) and syntax not in _UNCOMPRESSED
    pixels = count * (series.rows or 0) * (series.columns or 0)
    long_enough = (count >= PROCESS_POOL_MIN_SLICES or pixels >= PROCESS_POOL_MIN_PIXELS
                   or (count > 1 and decoder_pool_is_warm()))
    return (compressed and workers > 1 and long_enough and not gil_free_plugin(syntax)
            and not _threads_within_each_image(series)
            and all(i.frame is None for i in series.instances) and _spawn_is_safe())


def _syntax(series: SeriesInfo) -> str:
    return str(series.transfer_syntax_uid or series.instances[0].transfer_syntax_uid or "")


def _threads_within_each_image(series: SeriesInfo) -> bool:
    """GDCM's own threads on each image, for images small enough to hold the GIL briefly."""
    size = (series.rows or 0) * (series.columns or 0)
    return size <= IN_PROCESS_MAX_PIXELS and threads_within_each_image(_syntax(series))


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
