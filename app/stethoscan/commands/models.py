"""``stethoscan models list|info|verify|install|remove``: manage local model packages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, inspect, verify, install or remove models")
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    for name, help_text, arg in (
        ("list", "list bundled and installed model packages", None),
        ("info", "show a package's manifest summary and model card", "NAME"),
        ("verify", "run every integrity check on a package (name, folder or zip)", "NAME"),
        ("install", "verify a package folder or zip and install it", "PATH"),
        ("remove", "remove an installed (not bundled) package", "NAME"),
    ):
        action = sub.add_parser(name, help=help_text)
        if arg:
            action.add_argument("target", metavar=arg)
        if name == "install":
            action.add_argument(
                "--replace", action="store_true", help="replace an installed package"
            )
        action.add_argument("--json", action="store_true", help="print JSON")
        action.set_defaults(func=_run)


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)


def _run(args: argparse.Namespace) -> int:
    from stethoscan.core.errors import ModelPackageError

    handler = {"list": _list, "info": _info, "verify": _verify, "install": _install,
               "remove": _remove}[args.models_command]  # fmt: skip
    try:
        return handler(args)
    except ModelPackageError as exc:
        if not args.json:
            raise
        print(json.dumps({"result": "refused", "check": exc.check, "message": str(exc)}, indent=2))
        return 1


def _list(args: argparse.Namespace) -> int:
    from stethoscan.inference import registry

    problems: list[str] = []
    entries = registry.list_packages(problems)
    rows = [f"{e.name:<28} {e.version:<9} {e.source:<8} {'+'.join(e.input_modalities):<22} {e.task}"
            for e in entries]  # fmt: skip
    text = "\n".join(rows) if rows else "No model packages found."
    if problems:
        text += "\nUnreadable packages:\n" + "\n".join(f"  {p}" for p in problems)
    _print(args, {"models": [e.to_dict() for e in entries], "problems": problems}, text)
    return 0


def _info(args: argparse.Namespace) -> int:
    from stethoscan.inference import registry

    entry = registry.find_package(args.target)
    manifest = entry.manifest
    card = registry.card_text(args.target)
    data = {**entry.to_dict(), "manifest": manifest.model_dump(mode="json"), "card": card}
    lines = [
        f"{entry.name} {entry.version} ({entry.source}): {entry.task}",
        f"Inputs: {', '.join(entry.input_modalities)}; pipeline {entry.pipeline}",
        "Labels: " + "; ".join(f"{o.label} ({o.description})" for o in manifest.outputs),
        f"Licence: {manifest.model.licence}",
        f"Saliency methods offered: {', '.join(entry.validated_saliency_methods) or 'none'}",
    ]
    if manifest.model.research_use_only:
        lines.append("Not for diagnostic use (research use only).")
    if manifest.model.synthetic_training_data:
        lines.append("Trained on synthetic data.")
    _print(args, data, "\n".join(lines) + "\n\n" + card)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from stethoscan.inference import registry
    from stethoscan.inference.package_loader import verify_package

    path = Path(args.target)
    verified = verify_package(path) if path.exists() else registry.verify(args.target)
    data = {"result": "ok", "name": verified.name, "version": verified.version,
            "path": str(verified.path), "weights_sha256": verified.weights_sha256}  # fmt: skip
    _print(args, data, f"{verified.name} {verified.version}: every check passed.")
    return 0


def _install(args: argparse.Namespace) -> int:
    from stethoscan.inference import registry

    entry = registry.install(Path(args.target), replace=args.replace)
    _print(args, {"result": "installed", **entry.to_dict()},
           f"Installed {entry.name} {entry.version} into {entry.path}.")  # fmt: skip
    return 0


def _remove(args: argparse.Namespace) -> int:
    from stethoscan.inference import registry

    path = registry.remove(args.target)
    _print(args, {"result": "removed", "name": args.target, "path": str(path)},
           f"Removed {args.target}.")  # fmt: skip
    sys.stdout.flush()
    return 0
