"""``stethoscan gui [PATHS...] [--demo]``: open the application window (the default command)."""

from __future__ import annotations

import argparse
import importlib


def register(subparsers: argparse._SubParsersAction) -> None:
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
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # Imported by name at call time: the commands layer must not depend on the GUI layer
    # (and `stethoscan --help` must not load Qt).
    application = importlib.import_module("stethoscan.gui.application")
    return int(application.run_gui(list(args.paths), demo=bool(args.demo), screenshot_dir=args.screenshot))
