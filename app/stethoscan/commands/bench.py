"""``stethoscan bench dicom|audio|inference|analysis``: benchmarks with a baseline in the same run."""

from __future__ import annotations

import argparse
import importlib

BENCH_MODULES = (
    "stethoscan.commands.bench_dicom",
    "stethoscan.commands.bench_audio",
    "stethoscan.commands.bench_inference",
    "stethoscan.commands.bench_analysis",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench", help="measure speed against a baseline measured in the same run"
    )
    bench_sub = parser.add_subparsers(dest="bench", metavar="WHAT")
    for name in BENCH_MODULES:
        importlib.import_module(name).register(bench_sub)
