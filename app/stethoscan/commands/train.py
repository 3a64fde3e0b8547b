"""``stethoscan train respiratory|mci``: train a model and write a complete model package."""

from __future__ import annotations

import argparse
import importlib

TRAIN_MODULES = (
    "stethoscan.commands.train_respiratory",
    "stethoscan.commands.train_mci",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("train", help="train a model and write a model package")
    train_sub = parser.add_subparsers(dest="train", metavar="MODEL")
    for name in TRAIN_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(train_sub)
