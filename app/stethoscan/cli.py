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
    """Run the command in ``argv``; return its exit code (1 with a sentence on a known error)."""
    from stethoscan.core.errors import StethoscanError

    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except StethoscanError as exc:
        print(f"stethoscan: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stethoscan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except OSError as exc:  # a file or folder the command was given could not be used
        print(f"stethoscan: {os_error_sentence(exc)}", file=sys.stderr)
        return 1


def _dispatch(argv: list[str]) -> int:
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
    return int(func(args) or 0)


def _quiet_broken_pipe() -> int:
    """The reader of our output (e.g. ``head``) has gone: stop quietly, like Unix tools do.

    Standard output is pointed at the null device so that Python's final flush cannot fail
    again; the exit code is 141 (128 + SIGPIPE), what a shell reports for ``cat`` in that case.
    """
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout has no descriptor (captured in tests)
        pass
    return 141


def os_error_sentence(exc: OSError) -> str:
    """One sentence naming the path an OSError is about and what to do about it."""
    import errno

    path = exc.filename if exc.filename is not None else "a file"
    if isinstance(exc, FileNotFoundError):
        return (f"{path} cannot be found: check the path, and create the folder it should go "
                "in first if it is an output.")
    if isinstance(exc, IsADirectoryError):
        return f"{path} is a folder where a file is needed: give a file name (for example inside it)."
    if isinstance(exc, FileExistsError):
        return (f"{path} already exists as a file where a folder is needed: choose another "
                "folder name or move the file away.")
    if isinstance(exc, NotADirectoryError):
        return f"Part of {path} is a file, not a folder: check the path."
    if isinstance(exc, PermissionError):
        return (f"Permission denied: {path} cannot be read or written by your user; choose "
                "another location or ask for access.")
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"The disk is full while writing {path}: free some space or choose another disk."
    reason = exc.strerror or exc.__class__.__name__
    return f"{path} could not be used ({reason}): check the path and try again."
