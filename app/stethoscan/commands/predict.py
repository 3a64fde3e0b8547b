"""``stethoscan predict --model NAME INPUT``: run a model on a DICOM series or a recording.

Writes ``prediction.json``, and with ``--saliency`` also ``saliency.npy`` (the map on the
input grid) and ``saliency.png``, into ``--out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("predict", help="run a local model on a scan or a recording")
    parser.add_argument(
        "--model", required=True, help="package name (see `stethoscan models list`)"
    )
    parser.add_argument("input", metavar="INPUT", help="DICOM file/folder/zip or audio file")
    parser.add_argument("--saliency", choices=("gradcam", "ig", "occlusion"), default=None)
    parser.add_argument("--json", action="store_true", help="print the prediction as JSON")
    parser.add_argument("--out", type=Path, default=None, help="folder for JSON, PNG and NPY")
    parser.add_argument("--slice", type=int, default=None, help="1-based slice for a 2D model")
    parser.add_argument("--series", default=None, help="SeriesInstanceUID of a multi-series folder")
    parser.add_argument("--device", choices=("cpu", "cuda", "mps"), default=None)
    parser.set_defaults(func=_run)


def _options(args: argparse.Namespace) -> dict:
    options: dict = {"saliency": args.saliency}
    if args.slice is not None:
        options["slice_index"] = args.slice - 1
    if args.series:
        options["series_uid"] = args.series
    if args.device:
        options["device"] = args.device
    return options


def _run(args: argparse.Namespace) -> int:
    from stethoscan.commands.output_paths import check_output_folder
    from stethoscan.core.task import ConsoleTask
    from stethoscan.workflows.prediction_pipelines import predict

    if args.out is not None:
        check_output_folder(args.out)  # before the model runs, not after
    prediction = predict(args.model, args.input, _options(args), ConsoleTask("predict"))
    if args.out is not None:
        write_outputs(prediction, args.out)
    print(prediction.to_json() if args.json else summary_text(prediction))
    return 0


def summary_text(prediction) -> str:
    """The result as the clinician reads it: disclaimer, probabilities, warnings, regions."""
    lines = []
    if prediction.disclaimer:
        lines.append(f"*** {prediction.disclaimer} ***")
    lines.append(f"{prediction.model_name} {prediction.version}")
    width = max(len(label) for label in prediction.labels)
    for label, p, text in zip(prediction.labels, prediction.probabilities,
                              prediction.descriptions, strict=True):  # fmt: skip
        bar = "#" * int(round(p * 30))
        lines.append(f"  {label:<{width}} {p * 100:5.1f}% {bar:<30} {text}")
    lines.append(f"Top: {prediction.top_label} ({prediction.top_probability:.0%})")
    if prediction.synthetic_training_data:
        lines.append("This model was trained on synthetic data.")
    for warning in prediction.warnings:
        lines.append(f"Warning: {warning}")
    if prediction.saliency_method:
        lines.append(
            f"Saliency ({prediction.saliency_method}): " + "; ".join(prediction.saliency_regions)
        )
    lines.append(prediction.card_summary)
    return "\n".join(lines)


def write_outputs(prediction, out: Path) -> list[Path]:
    """prediction.json, and saliency.npy + saliency.png when there is a map."""
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "prediction.json"]
    written[0].write_text(prediction.to_json(), encoding="utf-8")
    if prediction.saliency is not None:
        np.save(out / "saliency.npy", prediction.saliency)
        from stethoscan.commands.saliency_figure import save_saliency_png

        save_saliency_png(prediction, out / "saliency.png")
        written += [out / "saliency.npy", out / "saliency.png"]
    return written
