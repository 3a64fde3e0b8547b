"""``stethoscan train respiratory``: train the breathing-cycle classifier and write its package.

Examples::

    stethoscan train respiratory --data ICBHI_final_database --out my-resp-model
    stethoscan train respiratory --synthetic 2400 --out models/respiratory-cycles --seed 1 \\
        --eval-data ../shared/data/icbhi-sample
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FEW_TEST_CYCLES = 30  # fewer held-out cycles than this: figures are anecdotal


def register(train_subparsers: argparse._SubParsersAction) -> None:
    parser = train_subparsers.add_parser(
        "respiratory",
        help="train the breathing-cycle classifier (normal/crackle/wheeze/both)",
        description="Train the respiratory sound model on the ICBHI 2017 database layout "
        "(WAV + cycle TXT per recording, optional ICBHI_challenge_train_test.txt), on a folder "
        "of recordings with labels.csv (file,start_s,end_s,label), or on N synthetic cycles, "
        "and write a complete model package.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="PATH", help="ICBHI folder or labelled folder")
    source.add_argument("--synthetic", type=int, metavar="N", help="train on N synthetic cycles")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="package folder")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--epochs", type=int, default=12, help="maximum epochs (default 12)")
    parser.add_argument("--arch", choices=("resp_cnn", "resp_crnn"), default="resp_cnn")
    parser.add_argument("--eval-data", type=Path, metavar="PATH",
                        help="labelled real recordings to evaluate on and report in the card")
    parser.add_argument("--name", default="respiratory-cycles", help="package name")
    parser.add_argument("--saliency-samples", type=int, default=24, metavar="N",
                        help="held-out synthetic windows for the saliency sanity checks "
                        "(default 24; 0 skips them, so no saliency method is offered)")
    parser.add_argument("--threads", type=int, default=0, metavar="N",
                        help="CPU threads for training (default: the idle cores); a seed gives the "
                        "same weights again with the same thread count")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stethoscan.core.errors import ValidationError
    from stethoscan.core.task import ConsoleTask
    from stethoscan.training.respiratory_training_run import TrainOptions, run

    if args.synthetic is not None and args.synthetic < 30:
        raise ValidationError("--synthetic needs at least 30 cycles to train, validate and test.")
    if args.epochs < 1:
        raise ValidationError("--epochs must be at least 1.")
    if args.eval_data is not None and not args.eval_data.exists():
        raise ValidationError(f"--eval-data {args.eval_data} does not exist: check the path.")
    if args.eval_data is not None and not args.eval_data.is_dir():
        raise ValidationError(f"--eval-data {args.eval_data} is not a folder of labelled recordings.")
    options = TrainOptions(out_dir=args.out, data_path=args.data, synthetic=args.synthetic,
                           seed=args.seed, epochs=args.epochs, arch=args.arch,
                           eval_data=args.eval_data, command=_describe(args), name=args.name,
                           sanity_samples=args.saliency_samples, threads=max(args.threads, 0))  # fmt: skip
    result = run(options, ConsoleTask("train respiratory"))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print_summary(result)
    return 0


def _describe(args: argparse.Namespace) -> str:
    source = f"--data {args.data}" if args.data else f"--synthetic {args.synthetic}"
    extra = f" --eval-data {args.eval_data}" if args.eval_data else ""
    threads = f" --threads {args.threads}" if args.threads else ""
    return (f"stethoscan train respiratory {source} --out {args.out} --seed {args.seed} "
            f"--epochs {args.epochs} --arch {args.arch}{extra}{threads}")  # fmt: skip


def _print_summary(result: dict) -> None:
    ev = result["evaluation"]
    print(f"Package written to {result['out_dir']} "
          f"({result['training']['seconds']:.0f} s, {result['training']['epochs_run']} epochs).")  # fmt: skip
    for name, figures in ev.items():
        keys = ("accuracy", "macro_f1", "icbhi_score", "wheeze_auc")
        shown = ", ".join(f"{k} {figures[k]:.3f}" for k in keys if figures.get(k) is not None)
        print(f"  {name}: {shown}")
    print(f"  saliency methods validated: {', '.join(result['saliency']) or 'none'}")
    tested = result["training"].get("cycles_test", 0)
    if tested < FEW_TEST_CYCLES:
        print(f"Note: only {tested} held-out cycles were tested, so the figures above are anecdotal; "
              f"train on more data (at least {FEW_TEST_CYCLES} test cycles) before comparing models.")
