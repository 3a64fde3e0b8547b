"""``stethoscan bench dicom``: volume loading, redraw and compressed decoding against baselines.

    stethoscan bench dicom [PATH [--series UID]] --json [--slices 300] [--size 512] [--repeats 5]

Without PATH a 300-slice 512x512 uncompressed CT series (12-bit, a body phantom with noise) is
generated in a temporary folder. Each reader runs in a fresh Python process, ``--repeats``
rounds interleaved, and the median is reported; before timing, every reader has imported its
libraries and read one file, and all files are in the OS page cache (so disk speed is not
measured). Readers, all given the files in spatial order:

- ``stethoscan``: :func:`load_volume` on the indexed series (indexing is timed separately);
  ``first_slice_seconds`` is when the requested (middle) slice is handed to the viewer;
- ``pydicom_loop``: ``np.stack([pydicom.dcmread(f).pixel_array for f in files])``;
- ``simpleitk``: ``sitk.ImageSeriesReader`` with the file names.

Peak memory is the rise of the process's peak resident set (VmHWM, reset through
``/proc/self/clear_refs`` after the imports) over its resident set before reading: it counts
every copy the reader makes, which tracemalloc would miss for C++ (SimpleITK) buffers.

Also measured: redraw of a 512x512 slice (window to uint8 grey while scrolling and while
dragging the window, a coronal plane, the RGB render) against a plain float formula; and
decoding compressed copies of part of the series, serial against parallel, wall and CPU time
(see :func:`measure_compressed`): JPEG 2000 lossless (GDCM threads within each image), RLE
lossless (threads) and JPEG-LS lossless (decoder processes, cold and warm).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stethoscan.commands.bench_dicom_compressed import load_average as _load_average
from stethoscan.commands.bench_dicom_compressed import measure_compressed
from stethoscan.commands.bench_dicom_phantom import write_synthetic_ct_series

TARGETS = {
    "whole_volume_vs_simpleitk_max": 1.0,
    "whole_volume_vs_pydicom_loop_max": 0.5,
    "peak_memory_over_volume_mb_max": 250.0,
    "first_slice_seconds_max": 0.150,
    "redraw_ms_max": 16.0,
}
READERS = ("stethoscan", "pydicom_loop", "simpleitk")


def register(bench_subparsers: argparse._SubParsersAction) -> None:
    parser = bench_subparsers.add_parser(
        "dicom", help="volume loading vs pydicom and SimpleITK, redraw, parallel decoding")
    parser.add_argument("path", nargs="?", metavar="PATH",
                        help="a series to measure (default: a generated 300-slice CT)")
    parser.add_argument("--series", metavar="UID", help="series in PATH (default: the largest)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--slices", type=int, default=300, help="generated series: slices")
    parser.add_argument("--size", type=int, default=512, help="generated series: rows = columns")
    parser.add_argument("--repeats", type=int, default=5, help="rounds per reader (median)")
    parser.add_argument("--compressed-slices", type=int, default=48,
                        help="slices re-encoded (JPEG 2000, RLE, JPEG-LS) for the parallel decoding test")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from stethoscan.core.task import ConsoleTask

    with tempfile.TemporaryDirectory(prefix="stethoscan-bench-") as scratch:
        if args.path:
            files, source = _files_of_series(args.path, args.series), "path"
        else:
            ConsoleTask("Generating").progress(0.0, "writing the synthetic CT series")
            folder = Path(scratch) / "ct"
            files, source = [str(p) for p in write_synthetic_ct_series(
                folder, args.slices, args.size)], "generated"
        report = measure(files, Path(scratch), args.repeats, args.compressed_slices)
        report["series"]["source"] = source
    print(json.dumps(report, indent=2) if args.json else _text(report))
    return 0


# --- synthetic series ----------------------------------------------------------------------
def _files_of_series(path: str, uid: str | None) -> list[str]:
    from stethoscan.core.errors import ValidationError
    from stethoscan.core.task import ConsoleTask
    from stethoscan.imaging.dicom_index import index_paths

    index = index_paths([path], ConsoleTask("Indexing"))
    candidates = index.all_series()
    series = index.find_series(uid) if uid else max(
        candidates, key=lambda s: s.number_of_slices, default=None)
    if series is None or series.number_of_slices == 0:
        raise ValidationError(f"No series {'with UID ' + uid + ' ' if uid else ''}found in {path}.")
    if any(i.frame is not None for i in series.instances):
        raise ValidationError("The benchmark compares file-per-slice readers; choose a series "
                              "stored as one file per slice.")
    return [i.path for i in series.instances]


# --- measurement ---------------------------------------------------------------------------
def measure(files: list[str], scratch: Path, repeats: int, compressed_slices: int
            ) -> dict[str, Any]:
    """The whole report; ``files`` in spatial order."""
    load_before = _load_average()
    for path in files:  # the page cache now holds every file for every reader alike
        Path(path).read_bytes()
    list_file = scratch / "files.json"
    list_file.write_text(json.dumps(files))
    runs: dict[str, list[dict]] = {r: [] for r in READERS}
    for _ in range(max(1, repeats)):
        for reader in READERS:
            runs[reader].append(_run_worker(reader, list_file))
    readers = {r: _summary(v) for r, v in runs.items()}
    series = _series_facts(files)
    report: dict[str, Any] = {
        "series": series,
        "method": ("each reader in a fresh process, median of the rounds, files in the OS page "
                   "cache; peak memory = rise of VmHWM over VmRSS before reading"),
        "readers": readers,
        "ratios": _ratios(readers),
        "redraw": measure_redraw(files),
        "compressed": measure_compressed(files, scratch, compressed_slices),
        "targets": TARGETS,
        "machine": {"cores": os.cpu_count(), "load_average_1min_before": load_before,
                    "load_average_1min_after": _load_average()},
    }
    report["targets_met"] = _targets_met(report)
    return report


def _series_facts(files: list[str]) -> dict[str, Any]:
    import pydicom

    ds = pydicom.dcmread(files[0], stop_before_pixels=True)
    volume_mb = len(files) * int(ds.Rows) * int(ds.Columns) * int(ds.BitsAllocated) / 8 / 2**20
    return {"slices": len(files), "rows": int(ds.Rows), "columns": int(ds.Columns),
            "transfer_syntax": ds.file_meta.TransferSyntaxUID.name,
            "volume_mb": round(volume_mb, 1)}


def _run_worker(reader: str, list_file: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "stethoscan.commands.bench_dicom", "--worker", reader,
               str(list_file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict[str, Any]:
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"error": runs[0].get("error", "failed")}
    summary: dict[str, Any] = {}
    for key in good[0]:
        values = [r[key] for r in good if r.get(key) is not None]
        summary[key] = round(statistics.median(values), 4) if values else None
    summary["runs_seconds"] = [round(r["seconds"], 4) for r in good]
    summary["best_seconds"] = min(summary["runs_seconds"])
    return summary


def _ratios(readers: dict[str, dict]) -> dict[str, float | None]:
    """Our time over theirs: of the medians (the targets) and of the best rounds."""
    def ratio(other: str, key: str) -> float | None:
        ours, theirs = readers["stethoscan"].get(key), readers[other].get(key)
        return round(ours / theirs, 3) if ours and theirs else None

    return {"whole_volume_vs_simpleitk": ratio("simpleitk", "seconds"),
            "whole_volume_vs_pydicom_loop": ratio("pydicom_loop", "seconds"),
            "best_vs_simpleitk": ratio("simpleitk", "best_seconds"),
            "best_vs_pydicom_loop": ratio("pydicom_loop", "best_seconds")}


def _targets_met(report: dict[str, Any]) -> dict[str, bool | None]:
    ours, ratios = report["readers"]["stethoscan"], report["ratios"]

    def at_most(value, limit):
        return None if value is None else bool(value <= limit)

    peak = ours.get("peak_memory_mb")
    over = None if peak is None else peak - report["series"]["volume_mb"]
    return {
        "whole_volume_vs_simpleitk": at_most(ratios["whole_volume_vs_simpleitk"],
                                             TARGETS["whole_volume_vs_simpleitk_max"]),
        "whole_volume_vs_pydicom_loop": at_most(ratios["whole_volume_vs_pydicom_loop"],
                                                TARGETS["whole_volume_vs_pydicom_loop_max"]),
        "peak_memory": at_most(over, TARGETS["peak_memory_over_volume_mb_max"]),
        "first_slice": at_most(ours.get("first_slice_seconds"),
                               TARGETS["first_slice_seconds_max"]),
        "redraw": at_most(report["redraw"]["scroll_p95_ms"], TARGETS["redraw_ms_max"]),
    }


def measure_redraw(files: list[str], frames: int = 100) -> dict[str, Any]:
    """Window to uint8 grey (what the viewer draws) while scrolling (fixed window) and while
    dragging the window (new window every frame), a coronal MPR plane, and the RGB render used
    for PNGs; baseline: the plain float formula to uint8 grey."""
    import numpy as np

    from stethoscan.imaging import slice_rendering as sr
    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.volume_loader import load_volume
    from stethoscan.imaging.windowing import apply_window

    volume = load_volume(index_paths(files).all_series()[0])
    count = volume.shape[0]
    center, width = volume.default_window or (40.0, 400.0)
    slope, intercept = volume.slope, volume.intercept

    def grey(data, c, w):
        return apply_window(data, c, w, slope, intercept)

    def baseline(n):
        hu = volume.voxels[n % count].astype(np.float32) * slope + intercept
        np.clip((hu - (center - width / 2)) / width * 255.0, 0, 255).astype(np.uint8)

    def coronal(n):
        plane = sr.extract_plane(volume, "coronal", n % sr.plane_count(volume, "coronal"))
        grey(plane.data, center, width)

    draws = {
        "scroll": lambda n: grey(volume.voxels[n % count], center, width),
        "window_drag": lambda n: grey(volume.voxels[count // 2], center + n, width + 2 * n),
        "coronal": coronal,
        "rgb_render": lambda n: sr.render_volume_plane(
            volume, sr.extract_acquired_slice(volume, n % count), (center, width)),
        "baseline_float": baseline,
    }
    times = {name: _timed(draw, frames) for name, draw in draws.items()}
    report: dict[str, Any] = {"slice_shape": list(volume.shape[1:])}
    for name, values in times.items():
        report[f"{name}_median_ms"] = _ms(statistics.median(values))
    report["scroll_p95_ms"] = _ms(float(np.percentile(times["scroll"], 95)))
    report["window_drag_p95_ms"] = _ms(float(np.percentile(times["window_drag"], 95)))
    report["ratio_scroll_vs_baseline"] = round(
        statistics.median(times["scroll"]) / statistics.median(times["baseline_float"]), 3)
    return report


def _timed(draw, frames: int) -> list[float]:
    draw(0)
    times = []
    for n in range(frames):
        start = time.perf_counter()
        draw(n)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def _ms(value: float) -> float:
    return round(value, 3)


def _text(report: dict[str, Any]) -> str:
    s, r, ratios = report["series"], report["readers"], report["ratios"]
    lines = [f"Series: {s['slices']} x {s['rows']} x {s['columns']} {s['transfer_syntax']} "
             f"({s['volume_mb']} MB stored, {s.get('source', '')})"]
    for name, figures in r.items():
        if "error" in figures:
            lines.append(f"  {name:13s} failed: {figures['error']}")
            continue
        first = figures.get("first_slice_seconds")
        lines.append(f"  {name:13s} {figures['seconds']:.3f} s  peak +{figures['peak_memory_mb']:.0f}"
                     f" MB" + (f"  first slice {first * 1000:.0f} ms" if first else ""))
    lines.append(f"  ratio vs SimpleITK {ratios['whole_volume_vs_simpleitk']}, "
                 f"vs pydicom loop {ratios['whole_volume_vs_pydicom_loop']}")
    d = report["redraw"]
    lines.append(f"Redraw {d['slice_shape']}: scroll {d['scroll_median_ms']} ms (p95 "
                 f"{d['scroll_p95_ms']}), window drag {d['window_drag_median_ms']} ms, coronal "
                 f"{d['coronal_median_ms']} ms, RGB {d['rgb_render_median_ms']} ms; float "
                 f"baseline {d['baseline_float_median_ms']} ms")
    c = report["compressed"]
    for key, label in (("jpeg2000", "JPEG 2000"), ("rle", "RLE"), ("jpeg_ls", "JPEG-LS")):
        if "serial_seconds" not in c.get(key, {}):
            continue
        f = c[key]
        parts = [f"{mode} {f[mode + '_seconds']} s (CPU {f[mode + '_cpu_seconds']} s, "
                 f"{f[mode + '_cores_used']} cores"
                 + (f", x{f['speedup_' + mode]})" if mode != "serial" else ")")
                 for mode in ("serial", "parallel", "cold", "warm") if mode + "_seconds" in f]
        lines.append(f"{label}, {f['slices']} slices, {c['workers']} workers "
                     "(" + "; ".join(f"{m} by {by}" for m, by in f["decoded_by"].items()) + "): "
                     + ", ".join(parts))
    m = report["machine"]
    lines.append(f"Machine: {m['cores']} cores, load average {m['load_average_1min_before']} "
                 f"before, {m['load_average_1min_after']} after")
    lines.append(f"Targets met: {report['targets_met']}")
    return "\n".join(lines)


# --- worker process: one reader, fresh interpreter -----------------------------------------
def _status_kb(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _prepare_reader(reader: str, files: list[str]):
    """Import and warm up ``reader``; return (read function, extra figures)."""
    import numpy as np

    if reader == "pydicom_loop":
        import pydicom

        pydicom.dcmread(files[0]).pixel_array  # noqa: B018 - warm-up: handlers imported

        def read():
            return np.stack([pydicom.dcmread(f).pixel_array for f in files]), None

        return read, {}
    if reader == "simpleitk":
        import SimpleITK as sitk

        sitk.ReadImage(files[0])

        def read():
            series = sitk.ImageSeriesReader()
            series.SetFileNames(files)
            return sitk.GetArrayViewFromImage(series.Execute()), None

        return read, {}
    return _prepare_stethoscan(files)


def _prepare_stethoscan(files: list[str]):
    from stethoscan.core.task import SilentTask
    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.pixel_decoding import decode_file
    from stethoscan.imaging.volume_loader import load_volume

    start = time.perf_counter()
    series = index_paths(files).all_series()[0]
    index_seconds = time.perf_counter() - start
    decode_file(files[0])

    class FirstSliceTask(SilentTask):
        first_at: float | None = None

        def partial(self, result) -> None:
            self.first_at = time.perf_counter()

    def read():
        task = FirstSliceTask()
        began = time.perf_counter()
        volume = load_volume(series, task)
        return volume.voxels, task.first_at - began

    return read, {"index_seconds": index_seconds}


def _worker_main(argv: list[str]) -> int:
    reader, list_file = argv
    files = json.loads(Path(list_file).read_text())
    read, extra = _prepare_reader(reader, files)
    before = _status_kb("VmRSS")
    can_reset = _reset_peak()
    start = time.perf_counter()
    voxels, first_slice = read()
    seconds = time.perf_counter() - start
    peak = _status_kb("VmHWM")
    assert voxels.shape[0] == len(files)
    peak_mb = (peak - before) / 1024.0 if can_reset and peak and before else None
    print(json.dumps({"seconds": seconds, "first_slice_seconds": first_slice,
                      "peak_memory_mb": peak_mb, **extra}))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        sys.exit(_worker_main(sys.argv[2:]))
    sys.exit("usage: stethoscan bench dicom [PATH] --json")
