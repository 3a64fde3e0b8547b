"""``stethoscan train mci``: train the MCI fusion model and write its model package."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(train_subparsers: argparse._SubParsersAction) -> None:
    parser = train_subparsers.add_parser(
        "mci",
        help="train the brain MRI + cognitive history model (CN / MCI / dementia)",
        description="Train the MCI fusion model on synthetic brains (--synthetic N) or on a "
        "folder with labels.csv and DICOM/NIfTI volumes (--data PATH), calibrate it, check its "
        "Grad-CAM maps and write a model package.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="folder with labels.csv (see mci_dataset docs)")
    source.add_argument("--synthetic", type=int, metavar="N", help="number of synthetic subjects")
    parser.add_argument("--out", type=Path, required=True, help="package folder to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stethoscan.core.task import ConsoleTask
    from stethoscan.training.mci_package import train_and_package

    options = {"data": args.data, "synthetic": args.synthetic, "seed": args.seed,
               "epochs": args.epochs}
    summary = train_and_package(options, args.out, ConsoleTask("train mci"))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        figures = summary["metrics"]["all"]
        print(f"package written to {summary['package']} ({summary['package_mb']:.1f} MB)")
        print(f"held-out balanced accuracy {figures['balanced_accuracy']:.3f}, recall "
              + ", ".join(f"{k} {v:.2f}" for k, v in figures["recall"].items()))
        print(f"Grad-CAM pointing game {summary['saliency'].get('pointing_game')}, "
              f"training {summary['seconds']['total']:.0f} s")
    return 0
