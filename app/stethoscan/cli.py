"""``stethoscan``: the GUI by default, and headless sub-commands for researchers and checks.

Each sub-command lives in ``stethoscan.commands.<name>`` with ``register(subparsers)``; the
handler it sets (``func``) returns the exit code. Heavy imports happen inside handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from stethoscan import __version__

COMMAND_MODULES = (
    "stethoscan.commands.dicom",
    "stethoscan.commands.audio",
    "stethoscan.commands.record",
    "stethoscan.commands.models",
    "stethoscan.commands.predict",
    "stethoscan.commands.train",
    "stethoscan.commands.evaluate",
    "stethoscan.commands.analyze",
    "stethoscan.commands.bench",
)


def _register_gui(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gui", help="open the application window (default when no command is given)"
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH",
        help="DICOM files, folders, DICOMDIR files or zip archives to open",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo patient")
    # For the screenshot tests: grab the window after loading, save PNGs in this folder, quit.
    parser.add_argument("--screenshot", metavar="DIR", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_run_gui)


def _run_gui(args: argparse.Namespace) -> int:
    # The entry point sits above every layer; Qt is imported only when the window opens.
    from stethoscan.gui.application import run_gui

    return int(run_gui(list(args.paths), demo=bool(args.demo), screenshot_dir=args.screenshot))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stethoscan",
        description="Offline clinical workstation: DICOM scans, breath and voice recordings, "
        "and local AI models. Without a command, the application window opens.",
    )
    parser.add_argument("--version", action="version", version=f"stethoscan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _register_gui(subparsers)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def _is_existing_path(arg: str) -> bool:
    from pathlib import Path

    return Path(arg).exists()


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        argv = ["gui", *argv]
    elif _is_existing_path(argv[0]) and argv[0] not in _command_names(parser):
        argv = ["gui", *argv]  # `stethoscan SCAN_FOLDER` opens it in the window
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from stethoscan.core.errors import StethoscanError

    try:
        return int(func(args) or 0)
    except StethoscanError as exc:
        print(f"stethoscan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stethoscan: interrupted", file=sys.stderr)
        return 130
