"""``stethoscan evaluate``: a model's figures on labelled data, as JSON and images.

Writes into ``--out``: ``metrics.json`` (per-class precision/recall/F1, confusion matrix, ROC and
AUC, expected calibration error and reliability bins; for respiratory models also the ICBHI
sensitivity/specificity/score and wheeze/crackle detection AUCs), ``confusion_matrix.png``,
``roc.png`` and ``reliability.png``.

``--breath-segmentation`` instead of ``--model`` scores the signal pipeline's breathing cycles
against the data's annotated cycles (``workflows.breath_segmentation_scoring``).

Which evaluator runs depends on the package's ``[model] pipeline`` (see :data:`EVALUATORS`).
Each evaluator is a function looked up lazily by module path and called as::

    run(model_name, out_dir, data_path=None, synthetic=None, seed=..., task=...) -> dict

and must write the files above. An evaluator that also accepts ``split`` ("train"/"test")
supports ``--split``. The MCI helper plugs in ``stethoscan.workflows.evaluate_mci.run``
under ``mci_fusion``; a pipeline whose evaluator module is not installed gets a clear message.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
from pathlib import Path

EVALUATORS: dict[str, str] = {
    "respiratory_cycles": "stethoscan.training.respiratory_evaluation:run",
    "mci_fusion": "stethoscan.workflows.evaluate_mci:run",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model on labelled data (metrics.json and plots)",
        description="Evaluate an installed or bundled model on labelled data and write "
        "metrics.json, confusion_matrix.png, roc.png and reliability.png.",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", metavar="NAME", help="package name or folder")
    what.add_argument("--breath-segmentation", action="store_true",
                      help="score the automatic breathing cycles and rate against the data's "
                      "annotated cycles (segmentation_scores.csv, segmentation_summary.json)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, metavar="PATH", help="labelled data folder")
    source.add_argument("--synthetic", type=int, metavar="N", help="N synthetic samples")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--seed", type=int, default=12345,
                        help="seed of the synthetic data (default 12345, unlike training's)")
    parser.add_argument("--split", choices=("all", "train", "test"), default="all",
                        help="only the recordings of this part of the data's official split "
                        "(ICBHI_challenge_train_test.txt or a split column); default all")
    parser.add_argument("--json", action="store_true", help="print the headline figures as JSON")
    parser.set_defaults(func=_run)


def evaluator_for(pipeline: str):
    """The evaluator function for a pipeline (imported now), or a ValidationError."""
    from stethoscan.core.errors import ValidationError

    target = EVALUATORS.get(pipeline)
    if target is None:
        raise ValidationError(
            f"Models of the {pipeline!r} kind cannot be evaluated by this version of Stethoscan "
            f"(evaluable kinds: {', '.join(sorted(EVALUATORS))})."
        )
    module_name, _, function = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ValidationError(
            f"The evaluator for {pipeline!r} models is not installed in this version of "
            "Stethoscan; update it to evaluate this model."
        ) from exc
    return getattr(module, function)


def evaluate_model(model: str, out_dir: Path, data_path: Path | None = None,
                   synthetic: int | None = None, seed: int = 12345, split: str = "all",
                   task=None) -> dict:  # fmt: skip
    """Evaluate ``model`` with the evaluator of its pipeline; writes metrics.json and the PNGs
    into ``out_dir`` and returns the report. The CLI and the GUI's Evaluate both call this."""
    from stethoscan.core.errors import ValidationError

    evaluate = evaluator_for(_pipeline_of(model))
    extra = {}
    if split != "all":
        if "split" not in inspect.signature(evaluate).parameters:
            raise ValidationError("A train/test split applies to respiratory models only; use all.")
        extra["split"] = split
    return evaluate(model, out_dir, data_path=data_path, synthetic=synthetic, seed=seed,
                    task=task, **extra)  # fmt: skip


def _pipeline_of(model: str) -> str:
    from stethoscan.inference.package_manifest import read_manifest
    from stethoscan.inference.registry import find_package

    folder = Path(model)
    if folder.is_dir():
        return read_manifest(folder).model.pipeline
    return find_package(model).pipeline


def _run(args: argparse.Namespace) -> int:
    from stethoscan.core.errors import ValidationError
    from stethoscan.core.task import ConsoleTask

    if args.synthetic is not None and args.synthetic < 1:
        raise ValidationError("--synthetic must be at least 1.")
    if args.data is not None and not args.data.exists():
        raise ValidationError(f"The data folder {args.data} does not exist.")
    if args.breath_segmentation:
        return _run_breath_segmentation(args)
    report = evaluate_model(args.model, args.out, data_path=args.data, synthetic=args.synthetic,
                            seed=args.seed, split=args.split, task=ConsoleTask("evaluate"))  # fmt: skip
    figures = _headline(report)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"Wrote metrics.json, confusion_matrix.png, roc.png, reliability.png to {args.out}")
        for key, value in figures.items():
            print(f"  {key}: {_figure_text(key, value, report)}")
        _print_skipped(report.get("skipped") or [])
    return 0


SHOWN_SKIPPED = 5


def _figure_text(key: str, value, report: dict) -> str:
    """A headline figure as text; a missing detection AUC says which cycles the data lack."""
    if value is not None:
        return str(value)
    detection = report.get("detection", {}).get(key.removesuffix("_auc"))
    if detection is None:
        return "n/a"
    if not detection.get("positives"):
        return f"n/a (the data hold no {key.removesuffix('_auc')} cycles)"
    if not detection.get("normals"):
        return "n/a (the data hold no normal cycles)"
    return "n/a"


def _print_skipped(skipped: list[str]) -> None:
    """Each left-out recording, row or cycle with its reason (the first few; all in metrics.json)."""
    if not skipped:
        return
    print(f"  Left out ({len(skipped)}; all reasons are in metrics.json, \"skipped\"):")
    for reason in skipped[:SHOWN_SKIPPED]:
        print(f"    {reason}")
    if len(skipped) > SHOWN_SKIPPED:
        print(f"    ... and {len(skipped) - SHOWN_SKIPPED} more")


def _run_breath_segmentation(args: argparse.Namespace) -> int:
    from stethoscan.core.errors import ValidationError
    from stethoscan.core.task import ConsoleTask
    from stethoscan.workflows.breath_segmentation_scoring import run

    if args.split != "all":
        raise ValidationError("--split applies to respiratory models only; leave it out.")
    summary = run(args.out, data_path=args.data, synthetic=args.synthetic, seed=args.seed,
                  task=ConsoleTask("evaluate"))
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"Wrote segmentation_scores.csv and segmentation_summary.json to {args.out}")
    for key in ("recordings", "rated_recordings", "within_3_bpm", "median_rate_error_bpm", "mean_boundary_f1",
                "uncertain_share", "off_by_more_than_3_when_uncertain", "off_by_more_than_3_when_not"):
        value = summary[key]
        print(f"  {key}: {round(value, 4) if isinstance(value, float) else value}")
    for failure in summary["failures"]:
        print(f"  not read: {failure['recording']}: {failure['reason']}")
    return 0


def _headline(report: dict) -> dict:
    from stethoscan.training.metrics import headline

    figures = headline(report) if "roc" in report and "calibration" in report else {}
    for name, det in report.get("detection", {}).items():
        figures[f"{name}_auc"] = None if det.get("auc") is None else round(det["auc"], 4)
    return figures
