"""``stethoscan predict --model NAME INPUT``: run a model on a DICOM series or a recording.

Writes ``prediction.json``, and with ``--saliency`` also ``saliency.npy`` (the map on the
input grid) and ``saliency.png``, into ``--out``. For the MCI model, ``--visits CSV`` gives the
cognitive history (columns ``visit_date`` or ``years_from_first``, ``mmse``, ``moca``,
``age_years``; one row per visit) and ``--sex``/``--education-years``/``--age-years`` (or
``--birth-date``: the age at the last dated visit, as the GUI derives it) the patient; demographics count only together with at least one visit with MMSE or MoCA, as in the
GUI. INPUT may be ``-`` (no scan) when visits are given.
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
    history = parser.add_argument_group("cognitive history (MCI model)")
    history.add_argument("--visits", type=Path, default=None, metavar="CSV",
                         help="visits: visit_date (or years_from_first), mmse, moca, age_years")
    history.add_argument("--sex", choices=("F", "M"), default=None)
    history.add_argument("--education-years", type=float, default=None)
    age = history.add_mutually_exclusive_group()
    age.add_argument("--age-years", type=float, default=None,
                     help="age at the last visit (default: the last visit's age_years)")
    age.add_argument("--birth-date", default=None, metavar="YYYY-MM-DD",
                     help="derive the age at the last visit_date, as the GUI does")
    parser.set_defaults(func=_run)


def _options(args: argparse.Namespace) -> dict:
    options: dict = {"saliency": args.saliency}
    if args.slice is not None:
        options["slice_index"] = args.slice - 1
    if args.series:
        options["series_uid"] = args.series
    if args.device:
        options["device"] = args.device
    patient = {key: value for key, value in (("sex", args.sex), ("age_years", args.age_years),
                                             ("education_years", args.education_years))
               if value is not None}  # fmt: skip
    if args.visits is not None or patient or args.birth_date:
        options["visits"] = read_visits_csv(args.visits) if args.visits is not None else []
        if args.birth_date and args.age_years is None:
            age = age_from_birth_date(args.birth_date, options["visits"])
            if age is not None:
                patient["age_years"] = age
        options["patient"] = patient
    return options


def age_from_birth_date(birth_date: str, visits: list[dict]) -> float | None:
    """The age at the last dated visit with MMSE or MoCA (the visit whose age the model takes),
    as the GUI derives it; None when that visit gives its own age_years (that is used) or no
    visit has scores (no history is used). Raises ValidationError when it cannot be derived."""
    from stethoscan.core.errors import ValidationError
    from stethoscan.records.visit_dates import age_on, parse_date

    if parse_date(birth_date) is None:
        raise ValidationError(f"--birth-date {birth_date!r} is not a date: write it as YYYY-MM-DD.")
    scored = [v for v in visits if v.get("mmse") is not None or v.get("moca") is not None]
    if not scored:
        return None
    dated = [(d, v) for d, v in ((parse_date(v.get("visit_date") or ""), v) for v in scored) if d is not None]
    if not dated:
        if scored[-1].get("age_years") is not None:
            return None
        raise ValidationError("--birth-date needs dated visits (a visit_date column in --visits) to "
                              "know the age at the last visit; or give --age-years.")  # fmt: skip
    last_day, last = max(dated, key=lambda item: item[0])
    if last.get("age_years") is not None:
        return None
    age = age_on(birth_date, last_day)
    if age is None:
        raise ValidationError(f"The birth date {birth_date} is after the last visit ({last_day}).")
    return age


def read_visits_csv(path: Path) -> list[dict]:
    """Visits for the MCI model from a CSV file (blank cells are unknown)."""
    import csv

    from stethoscan.core.errors import ValidationError

    if not path.is_file():
        raise ValidationError(f"The visits file {path} does not exist.")
    numbers = ("mmse", "moca", "age_years", "years_from_first")
    visits = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if not {"mmse", "moca"} & columns:
            raise ValidationError(f"{path.name} needs an mmse or moca column (one row per visit).")
        for line, row in enumerate(reader, start=2):
            visit: dict = {"visit_date": _visit_date(row.get("visit_date"), path.name, line)}
            for key in numbers:
                text = (row.get(key) or "").strip()
                try:
                    visit[key] = float(text) if text else None
                except ValueError:
                    raise ValidationError(f"{path.name} line {line}: {key} {text!r} is not a number.") from None
            if visit["years_from_first"] is None:
                del visit["years_from_first"]
            visits.append(visit)
    return visits


def _visit_date(text: str | None, file_name: str, line: int) -> str | None:
    """A visit_date cell as YYYY-MM-DD (also YYYYMMDD, YYYY/MM/DD); blank is undated."""
    from stethoscan.core.errors import ValidationError
    from stethoscan.records.visit_dates import parse_date

    text = (text or "").strip()
    if not text:
        return None
    day = parse_date(text)
    if day is None:
        raise ValidationError(f"{file_name} line {line}: visit_date {text!r} is not a date: "
                              "write it as YYYY-MM-DD.")  # fmt: skip
    return day.isoformat()


def _run(args: argparse.Namespace) -> int:
    from stethoscan.commands.output_paths import check_output_folder
    from stethoscan.core.task import ConsoleTask
    from stethoscan.workflows.prediction_pipelines import predict

    if args.out is not None:
        check_output_folder(args.out)  # before the model runs, not after
    input_path = None if args.input == "-" else args.input
    options = _options(args)
    if "visits" in options:
        _check_takes_history(args.model)
    prediction = predict(args.model, input_path, options, ConsoleTask("predict"))
    if args.out is not None:
        write_outputs(prediction, args.out)
    print(prediction.to_json() if args.json else summary_text(prediction))
    return 0


def _check_takes_history(model_name: str) -> None:
    """Refuse visits/demographics for a model that would silently ignore them."""
    from stethoscan.core.errors import ValidationError
    from stethoscan.inference.registry import find_package

    if Path(model_name).is_dir():
        return  # a package folder: its pipeline checks its own options
    entry = find_package(model_name)
    if "clinical_scores" not in entry.input_modalities:
        raise ValidationError(f"The model {entry.name} does not use cognitive scores; "
                              "leave out --visits, --sex, --education-years, --age-years and --birth-date.")


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
        lines.append(f"  {label:<{width}} {_percent(p):>6} {bar:<30} {text}")
    lines.append(f"Top: {prediction.top_label} ({_percent(prediction.top_probability)})")
    if prediction.synthetic_training_data:
        lines.append("This model was trained on synthetic data.")
    for warning in prediction.warnings:
        lines.append(f"Warning: {warning}")
    if prediction.inputs_used:
        lines.append("Inputs used: " + ", ".join(_input_texts(prediction)))
    if prediction.saliency_method:
        lines.append(
            f"Saliency ({prediction.saliency_method}): " + "; ".join(prediction.saliency_regions)
        )
    lines.append(prediction.card_summary)
    return "\n".join(lines)


def _input_texts(prediction) -> list[str]:
    """Each input used, the cognitive history with what it held, and its contribution."""
    held = (prediction.details or {}).get("history_inputs") or []
    out = []
    for name in prediction.inputs_used:
        text = f"{name} ({', '.join(held)})" if name == "clinical_scores" and held else name
        if name in prediction.contributions:
            text += f" {prediction.contributions[name] * 100:+.1f} pts"
        out.append(text)
    return out


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


def _percent(p: float) -> str:
    """One decimal, never "100.0%" or "0.0%": a model is not certain."""
    if p >= 0.9995:
        return ">99.9%"
    if p < 0.0005:
        return "<0.1%"
    return f"{p * 100:.1f}%"
