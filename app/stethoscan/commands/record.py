"""``stethoscan record``: record from the microphone to a file, crash-safe; or recover.

    stethoscan record --seconds 30 [--device D] [--rate 48000] --out take.flac
    stethoscan record --recover DIR      # finish takes cut off by a crash or kill under DIR

While recording, stdout gets one line when the microphone starts (``started ...``) and a
progress line about twice a second (``recorded 4.5 / 30 s, overflows 0``). Ctrl-C or SIGTERM
stops early and keeps what was recorded. After a crash or SIGKILL the data on disk (all but at
most the last second) is in ``FILE.inprogress/``: ``--recover`` turns it into ``FILE``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "record", help="record from the microphone to a file (crash-safe), or recover takes"
    )
    parser.add_argument("--seconds", type=float, help="how long to record, s")
    parser.add_argument("--device", help="input device index or (part of its) name; default: system default")
    parser.add_argument("--rate", type=int, default=None, help="sample rate, Hz (default 48000 or 44100)")
    parser.add_argument("--channels", type=int, default=1, help="number of channels (default 1)")
    parser.add_argument("--block-ms", type=float, default=10.0, help="capture block, ms (<= 20)")
    parser.add_argument("--format", choices=("FLAC", "WAV"), default=None,
                        help="file format (default: from the --out extension, else FLAC)")
    parser.add_argument("--out", type=Path, help="the audio file to write")
    parser.add_argument("--recover", type=Path, metavar="DIR",
                        help="recover every unsaved take under DIR instead of recording")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    if args.recover is not None:
        return _recover(args.recover, args.json)
    if args.seconds is None or args.out is None or args.seconds <= 0:
        print("stethoscan record: give --seconds N (> 0) and --out FILE, or --recover DIR",
              file=sys.stderr)
        return 2
    return _record(args)


def _record(args: argparse.Namespace) -> int:
    from stethoscan.audio.audio_devices import choose_input
    from stethoscan.audio.capture_stream import CaptureConfig, record_to_file

    device = int(args.device) if args.device and args.device.isdigit() else args.device
    choice = choose_input(device, args.rate, args.channels, fallback=False)
    config = CaptureConfig(device=choice.device.index, rate_hz=choice.rate_hz,
                           channels=choice.channels, block_ms=args.block_ms)
    fmt = args.format or ("WAV" if args.out.suffix.lower() == ".wav" else "FLAC")
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        result = record_to_file(args.out, args.seconds, config, _ProgressLine(args.seconds),
                                final_format=fmt, on_event=_print_event)
    finally:
        signal.signal(signal.SIGTERM, previous)
    summary = {
        "path": str(result.path) if result.path else None, "duration_s": round(result.duration_s, 4),
        "rate_hz": result.rate_hz, "channels": result.channels, "overflows": result.overflows,
        "device": result.device, "status": result.status, "message": result.message,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"saved {summary['path']} ({result.duration_s:.2f} s, {result.rate_hz} Hz, "
              f"{result.channels} ch, {result.overflows} overflows, {result.status})", flush=True)
    return 0 if result.status == "complete" else 1


def _recover(folder: Path, as_json: bool) -> int:
    from stethoscan.audio.recording_recovery import recover_all

    outcomes = recover_all(folder)
    rows = [
        {"folder": str(item.folder), "result": str(out), "ok": isinstance(out, Path),
         "duration_s": round(item.duration_s, 4), "rate_hz": item.rate_hz}
        for item, out in outcomes
    ]
    if as_json:
        print(json.dumps(rows))
    else:
        for row in rows:
            word = "recovered" if row["ok"] else "failed"
            print(f"{word} {row['result']} ({row['duration_s']:.2f} s)")
        if not rows:
            print(f"nothing to recover under {folder}")
    return 0 if all(row["ok"] for row in rows) else 1


class _ProgressLine:
    """A task that prints ``recorded X / N s`` about twice a second."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._last = -1.0

    def progress(self, fraction: float, message: str = "") -> None:
        elapsed = fraction * self._seconds
        if elapsed - self._last >= 0.5:
            self._last = elapsed
            print(f"recorded {elapsed:.2f} / {self._seconds:g} s", flush=True)

    def partial(self, result: object) -> None:
        pass

    def is_cancelled(self) -> bool:
        return False

    def check_cancelled(self) -> None:
        pass


def _print_event(event) -> None:
    if event.kind in ("started", "device_failed", "disk_failed", "overflow", "paused", "resumed"):
        print(f"{event.kind} at {event.elapsed_s:.2f} s: {event.message}", flush=True)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
