"""Compressed decoding for ``stethoscan bench dicom``: serial against parallel, wall and CPU time."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):
        return None


def measure_compressed(files: list[str], scratch: Path, slices: int) -> dict[str, Any]:
    """Decode compressed copies of ``slices`` slices serially and in parallel.

    - JPEG 2000 lossless: one core (a pydicom loop with pylibjpeg-openjpeg, which decodes on
      one thread) against the loader, which lets GDCM spread each image over every core;
    - RLE lossless: one thread against one per core (pylibjpeg-rle releases the GIL);
    - JPEG-LS lossless (encoded with dcmtk's dcmcjpls where installed): one thread against
      decoder processes started for the series ("cold": start-up included) and already
      running ("warm", as for every series after the first).

    Wall time and CPU time (this process plus its decoder processes), fastest of three rotating
    rounds; every result is compared with the serial pixels.
    """
    import shutil

    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

    if slices <= 0:
        return {"skipped": "--compressed-slices 0"}
    parallel = max(2, os.cpu_count() or 1)  # one per core even when other work keeps them busy
    report: dict[str, Any] = {"workers": parallel, "load_average_1min_before": load_average()}
    cases = [("jpeg2000", JPEG2000Lossless, ("serial", "parallel")),
             ("rle", RLELossless, ("serial", "parallel"))]
    if shutil.which("dcmcjpls"):
        cases.append(("jpeg_ls", JPEGLSLossless, ("serial", "cold", "warm")))
    else:
        report["jpeg_ls"] = {"skipped": "dcmtk's dcmcjpls is not installed"}
    for key, uid, modes in cases:
        series = _compressed_copy(files, scratch / key, slices, uid)
        report[key] = _decode_rounds(series, modes, parallel)
    report["load_average_1min_after"] = load_average()
    return report


def _compressed_copy(files: list[str], folder: Path, slices: int, uid):
    import pydicom
    from pydicom.uid import JPEGLSLossless

    from stethoscan.imaging.dicom_index import index_paths

    folder.mkdir()
    step = max(1, len(files) // slices)
    for n, path in enumerate(files[::step][:slices]):
        out = folder / f"C{n:04d}.dcm"
        if uid == JPEGLSLossless:
            subprocess.run(["dcmcjpls", "--encode-lossless", path, str(out)], check=True,
                           capture_output=True)
            continue
        ds = pydicom.dcmread(path)
        ds.compress(uid, encoding_plugin="pylibjpeg")
        ds.save_as(out)
    return index_paths([folder]).all_series()[0]


def _decode_rounds(series, modes: tuple[str, ...], parallel: int) -> dict[str, Any]:
    """(wall, CPU) of each mode's fastest of three rotating rounds, and the cores it kept busy
    (CPU over wall: above 1 only in parallel and only with cores to spare); every result is
    checked against the serial pixels."""
    import numpy as np
    from pydicom.uid import UID

    from stethoscan.imaging.parallel_decoding import shutdown_decoder_pool
    from stethoscan.imaging.volume_loader import load_volume

    reference = load_volume(series, workers=1).voxels  # warm-up: every decoder imported
    runs: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
    decoded_by: dict[str, str] = {}
    identical = True
    try:
        for round_ in range(3):
            for mode in modes[round_ % len(modes):] + modes[:round_ % len(modes)]:
                wall, cpu, voxels, decoded_by[mode] = _timed_load(series, mode, parallel)
                runs[mode].append((wall, cpu))
                identical = identical and bool(np.array_equal(voxels, reference))
    finally:
        shutdown_decoder_pool()
    best = {m: min(r) for m, r in runs.items()}  # the fastest round, least disturbed
    out: dict[str, Any] = {"transfer_syntax": UID(series.transfer_syntax_uid or "").name,
                           "slices": series.number_of_slices,
        "decoded_by": decoded_by, "pixels_identical_to_serial": identical}
    for mode, (wall, cpu) in best.items():
        out[f"{mode}_seconds"], out[f"{mode}_cpu_seconds"] = round(wall, 3), round(cpu, 3)
        out[f"{mode}_cores_used"] = round(cpu / wall, 2)  # CPU time over wall time
        if mode != "serial":
            out[f"speedup_{mode}"] = round(best["serial"][0] / wall, 2)
    return out


def _timed_load(series, mode: str, parallel: int):
    """(wall s, CPU s of this process and its decoder processes, voxels, decoded by) of one
    load."""
    from stethoscan.imaging.parallel_decoding import (
        decoder_pool_pids,
        shutdown_decoder_pool,
        start_decoder_pool,
        use_decoder_processes,
        wait_for_decoder_pool,
    )
    from stethoscan.imaging.pixel_decoding import threads_within_each_image
    from stethoscan.imaging.volume_loader import load_volume

    if mode == "warm":
        start_decoder_pool(parallel)
        wait_for_decoder_pool(60.0)
    else:
        shutdown_decoder_pool()
    workers = 1 if mode == "serial" else parallel
    inside = threads_within_each_image(str(series.transfer_syntax_uid))
    one_core_j2k = mode == "serial" and inside
    by = ("one thread (pylibjpeg-openjpeg)" if one_core_j2k
          else "processes" if use_decoder_processes(series, series.number_of_slices - 1, workers)
          else "GDCM threads within each image" if inside
          else "threads" if workers > 1 else "one thread")
    children_before = _cpu_of(decoder_pool_pids())
    cpu_before = time.process_time()
    start = time.perf_counter()
    voxels = (_one_core_loop(series) if one_core_j2k
              else load_volume(series, workers=workers).voxels)
    wall = time.perf_counter() - start
    children = _cpu_of(decoder_pool_pids())  # cold: started during the load, counted whole
    cpu = time.process_time() - cpu_before + children - (
        children_before if mode == "warm" else 0.0)
    return wall, cpu, voxels, by


def _one_core_loop(series):
    """Stored values of every slice, decoded one after another on one core."""
    import numpy as np
    import pydicom
    from pydicom.pixels import pixel_array

    return np.stack([pixel_array(pydicom.dcmread(i.path), decoding_plugin="pylibjpeg")
                     for i in series.instances])


def _cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of running processes (from /proc; 0 where unavailable)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")
