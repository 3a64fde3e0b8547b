"""``stethoscan bench audio``: cost of the live pipeline and capture block timing.

    stethoscan bench audio --json [--seconds 60] [--capture-seconds 3] [--device D]
    stethoscan bench audio --json --soak-seconds 600 --load    # overflows under load

- ``live_pipeline``: level meter + waveform envelope + mel spectrogram update on 10 ms blocks of
  48 kHz audio, CPU time (``time.process_time``) per second of audio = fraction of one core.
  ``baseline``: the naive way measured in the same run (per block, ``librosa.feature.
  melspectrogram`` over the last window, which rebuilds its filterbank every call).
- ``capture``: block duration and the measured interval between PortAudio callbacks through the
  real default (or given) input device; skipped with a reason when no input device exists.
- ``soak`` (``--soak-seconds N``): records N s through :class:`Recorder` while the live pipeline
  runs on its blocks; with ``--load`` a subprocess keeps both cores busy with a torch matmul loop.
Targets: live pipeline <= 5% of one core, blocks <= 20 ms, zero input overflows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_CORE_FRACTION = 0.05
_LOAD_CODE = (
    "import torch\n"
    "torch.set_num_threads(2)\n"
    "a = torch.randn(768, 768)\n"
    "while True:\n"
    "    a = torch.tanh(a @ a) \n"
)


def register(bench_subparsers: argparse._SubParsersAction) -> None:
    parser = bench_subparsers.add_parser("audio", help="live audio pipeline cost and capture timing")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--seconds", type=float, default=60.0, help="audio processed by the pipeline, s")
    parser.add_argument("--rate", type=int, default=48000, help="sample rate, Hz")
    parser.add_argument("--block-ms", type=float, default=10.0, help="block length, ms")
    parser.add_argument("--capture-seconds", type=float, default=3.0,
                        help="how long to time real capture blocks, s (0: skip)")
    parser.add_argument("--device", default=None, help="input device for the capture timing")
    parser.add_argument("--soak-seconds", type=float, default=0.0, help="record this long, s")
    parser.add_argument("--load", action="store_true", help="keep both cores busy during the soak")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    report: dict[str, Any] = {"rate_hz": args.rate, "block_ms": args.block_ms,
                              "target_core_fraction": TARGET_CORE_FRACTION}
    report.update(measure_pipeline(args.rate, args.block_ms, args.seconds))
    if args.capture_seconds > 0:
        report["capture"] = measure_capture(args.device, args.rate, args.block_ms, args.capture_seconds)
    if args.soak_seconds > 0:
        report["soak"] = soak(args.device, args.rate, args.block_ms, args.soak_seconds, args.load)
    print(json.dumps(report, indent=2) if args.json else _text(report))
    return 0


def _test_signal(rate: int, seconds: float):
    import numpy as np

    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0)
    return (x + 0.01 * rng.standard_normal(t.size)).astype(np.float32)[:, None]


def measure_pipeline(rate: int, block_ms: float, seconds: float) -> dict[str, Any]:
    """CPU time of the live pipeline and of the naive baseline, per second of audio."""
    from stethoscan.audio.level_metering import LevelMeter
    from stethoscan.audio.live_spectrogram import LiveSpectrogram, LiveWaveform

    x = _test_signal(rate, seconds)
    block = max(int(round(rate * block_ms / 1000)), 1)
    blocks = [x[i : i + block] for i in range(0, len(x) - block + 1, block)]
    meter, wave, spec = LevelMeter(rate), LiveWaveform(rate), LiveSpectrogram(rate)
    stages = {"meter": meter.update, "waveform": wave.push, "spectrogram": spec.push}
    cpu = {name: 0.0 for name in stages}
    start = time.process_time()
    for b in blocks:
        for name, stage in stages.items():
            t0 = time.process_time()
            stage(b)
            cpu[name] += time.process_time() - t0
    total = time.process_time() - start
    audio_s = len(blocks) * block / rate
    baseline_s = min(audio_s, 10.0)
    baseline_cpu = _baseline_cpu(blocks[: int(baseline_s * rate / block)], rate, spec.n_fft, spec.hop)
    live = total / audio_s
    base = baseline_cpu / baseline_s
    return {
        "audio_s": round(audio_s, 3),
        "live_pipeline": {
            "core_fraction": round(live, 5),
            "cpu_s": round(total, 4),
            "per_block_us": round(1e6 * total / len(blocks), 1),
            "stages_core_fraction": {k: round(v / audio_s, 5) for k, v in cpu.items()},
        },
        "baseline_naive_librosa": {"core_fraction": round(base, 5), "audio_s": round(baseline_s, 3)},
        "speedup_vs_baseline": round(base / live, 2) if live > 0 else None,
        "meets_target": live <= TARGET_CORE_FRACTION,
    }


def _baseline_cpu(blocks: list, rate: int, n_fft: int, hop: int) -> float:
    import librosa
    import numpy as np

    history = np.zeros(n_fft, dtype=np.float32)
    start = time.process_time()
    for b in blocks:
        mono = b[:, 0]
        history = np.concatenate([history, mono])[-n_fft - hop:]
        float(np.sqrt(np.mean(mono**2)))
        float(np.abs(mono).max())
        librosa.power_to_db(librosa.feature.melspectrogram(
            y=history, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=64, center=False))
    return time.process_time() - start


def measure_capture(device: Any, rate: int, block_ms: float, seconds: float) -> dict[str, Any]:
    """Callback interval statistics through a real input device (ms)."""
    import numpy as np

    from stethoscan.audio.audio_devices import find_input_device, load_sounddevice
    from stethoscan.core.errors import AudioDeviceError

    try:
        sd = load_sounddevice()
        chosen = find_input_device(device)
    except AudioDeviceError as exc:
        return {"skipped": str(exc)}
    block = max(int(round(rate * block_ms / 1000)), 1)
    times: list[float] = []
    overflows = [0]

    def callback(indata, frames, time_info, status):
        times.append(time.monotonic())
        if status.input_overflow:
            overflows[0] += 1

    opened = time.monotonic()
    with sd.InputStream(device=chosen.index, samplerate=rate, channels=1, blocksize=block,
                        dtype="float32", callback=callback):
        while (not times or times[-1] - times[0] < seconds) and time.monotonic() - opened < seconds + 10:
            time.sleep(0.05)
    if len(times) < 3:
        return {"skipped": f"{chosen.label} delivered no sound within {seconds + 10:g} s"}
    gaps = np.diff(times) * 1000
    return {
        "device": chosen.label, "block_ms": round(1000 * block / rate, 3), "blocks": len(times),
        "first_block_after_s": round(times[0] - opened, 3),
        "interval_ms": {"mean": round(float(gaps.mean()), 3), "p50": round(float(np.median(gaps)), 3),
                        "p99": round(float(np.percentile(gaps, 99)), 3), "max": round(float(gaps.max()), 3),
                        "std": round(float(gaps.std()), 3)},
        "overflows": overflows[0],
        "meets_block_target": 1000 * block / rate <= 20.0,
    }


def soak(device: Any, rate: int, block_ms: float, seconds: float, load: bool) -> dict[str, Any]:
    """Record ``seconds`` through the real Recorder (with the live pipeline), optionally under load."""
    from stethoscan.audio.capture_stream import CaptureConfig, Recorder
    from stethoscan.audio.level_metering import LevelMeter
    from stethoscan.audio.live_spectrogram import LiveSpectrogram, LiveWaveform

    loader = subprocess.Popen([sys.executable, "-c", _LOAD_CODE]) if load else None
    try:
        with tempfile.TemporaryDirectory() as folder:
            rec = Recorder(Path(folder) / "soak.flac", CaptureConfig(device=device, rate_hz=rate,
                                                                    block_ms=block_ms),
                           max_duration_s=seconds)
            meter, wave, spec = LevelMeter(rate), LiveWaveform(rate), LiveSpectrogram(rate)
            wall = time.monotonic()
            rec.start()
            try:
                while rec.wait(0.03) is None:
                    for b in rec.read_live_blocks():
                        meter.update(b)
                        wave.push(b)
                        spec.push(b)
            finally:
                result = rec.stop()
            status = rec.status()
            wall = time.monotonic() - wall
    finally:
        if loader is not None:
            loader.kill()
            loader.wait()
    return {
        "seconds": seconds, "load": load, "recorded_s": round(result.duration_s, 3),
        "wall_s": round(wall, 3), "status": result.status, "message": result.message,
        "overflows": result.overflows, "live_dropped": status.live_dropped,
        "max_block_gap_ms": round(1000 * status.max_block_gap_s, 2),
    }


def _text(report: dict[str, Any]) -> str:
    live = report["live_pipeline"]
    lines = [
        f"live pipeline: {100 * live['core_fraction']:.2f}% of one core "
        f"(target <= {100 * TARGET_CORE_FRACTION:.0f}%), {live['per_block_us']} us per block",
        f"naive librosa baseline: {100 * report['baseline_naive_librosa']['core_fraction']:.2f}% "
        f"of one core ({report['speedup_vs_baseline']}x slower)",
    ]
    for key in ("capture", "soak"):
        if key in report:
            lines.append(f"{key}: {json.dumps(report[key])}")
    return "\n".join(lines)
