"""``stethoscan audio devices|info``: list microphones, describe audio files.

    stethoscan audio devices [--json] [--rescan]
    stethoscan audio info FILE [FILE ...] [--json]

``info`` prints duration (s), rate (Hz), channels, format, peak and RMS (dBFS), clipping and the
estimated SNR (dB). One unreadable file is reported and the others are still described.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audio", help="list microphones, describe audio files")
    sub = parser.add_subparsers(dest="audio_command", metavar="WHAT")
    devices = sub.add_parser("devices", help="list input devices (microphones)")
    devices.add_argument("--json", action="store_true", help="print JSON")
    devices.add_argument("--rescan", action="store_true", help="restart PortAudio first")
    devices.set_defaults(func=_devices)
    info = sub.add_parser("info", help="duration, rate, levels, clipping and SNR of audio files")
    info.add_argument("files", nargs="+", type=Path, metavar="FILE")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_info)


def _devices(args: argparse.Namespace) -> int:
    from stethoscan.audio.audio_devices import (
        choose_input,
        list_input_devices,
        rescan_input_devices,
    )

    devices = rescan_input_devices() if args.rescan else list_input_devices()
    default = choose_input() if devices else None
    if args.json:
        print(json.dumps({
            "devices": [d.to_dict() for d in devices],
            "default": None if default is None else {
                "index": default.device.index, "rate_hz": default.rate_hz,
                "channels": default.channels,
            },
        }, indent=2))
        return 0
    for d in devices:
        mark = "*" if d.is_default else " "
        print(f"{mark} {d.index:3d}  {d.name}  [{d.host_api}]  {d.max_input_channels} in, "
              f"{d.default_rate_hz} Hz")
    if default is not None:
        print(f"default: {default.device.label} at {default.rate_hz} Hz, {default.channels} channel(s)")
    else:
        print("no microphone found")
    return 0


def _info(args: argparse.Namespace) -> int:
    from stethoscan.audio.audio_files import audio_info
    from stethoscan.core.errors import AudioFileError

    rows: list[dict[str, object]] = []
    failed = 0
    for path in args.files:
        try:
            rows.append(audio_info(path))
        except AudioFileError as exc:
            failed += 1
            rows.append({"file": path.name, "error": str(exc)})
    if args.json:
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2))
    else:
        for row in rows:
            _print_info(row)
    if failed and not args.json:
        print(f"{failed} file(s) could not be read", file=sys.stderr)
    return 1 if failed else 0


def _print_info(row: dict[str, object]) -> None:
    if "error" in row:
        print(f"{row['file']}: {row['error']}")
        return
    print(
        f"{row['file']}: {row['duration_s']:.3f} s, {row['rate_hz']} Hz, {row['channels']} ch, "
        f"{row['format']} {row['subtype']}, peak {row['peak_dbfs']:.1f} dBFS, "
        f"RMS {row['rms_dbfs']:.1f} dBFS, clipped {row['clipped_samples']} samples "
        f"({100 * float(row['clipped_fraction']):.3f}%), {_snr_text(row)}"
    )
    for warning in row.get("warnings") or []:  # type: ignore[union-attr]
        print(f"  Warning: {warning}")


def _snr_text(row: dict[str, object]) -> str:
    """"SNR x dB", or that a silent file has none (its 0 dB would read as a very noisy take)."""
    peak = float(row["peak_dbfs"])  # type: ignore[arg-type]
    if not math.isfinite(peak) or peak <= -120.0:  # the meters floor at -120 dBFS
        return "SNR n/a (the file is silent)"
    return f"SNR {float(row['snr_db']):.1f} dB"  # type: ignore[arg-type]
