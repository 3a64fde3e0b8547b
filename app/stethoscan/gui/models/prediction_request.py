"""What the model panel asks the inference worker to do, and how results are kept (Qt-free).

:func:`build_request` turns an offer and the data in front of the clinician into the pipeline's
input and options. :func:`run_prediction` runs in the single inference worker: it predicts
(``workflows.prediction_pipelines.predict``) and saves the result with the patient's session
(``store.add_result``); the saliency map goes beside the database as a compressed NPZ file
(8-bit, since maps are in [0, 1]), named in the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core import paths
from stethoscan.gui.models.model_fit import DataInFront, ModelOffer
from stethoscan.records.visit_dates import age_on


@dataclass
class PredictionRequest:
    """One run of one model: its input (path and/or options) and how to refer to it later."""

    model_name: str
    pipeline: str
    input_path: str | None
    options: dict[str, Any]
    input: dict[str, Any] = field(default_factory=dict)  # JSON-able: kind, series_uid, ... text


@dataclass
class SavedPrediction:
    """A prediction as shown by the results panel: live, or read back from the database."""

    result_id: int
    prediction: Any  # inference.prediction.Prediction
    input: dict[str, Any]
    created_at: str = ""


def saliency_option(pipeline: str, method: str | None) -> str | None:
    """The ``saliency`` option meaning ``method`` (None: no map) for ``pipeline``."""
    return method or None


def visits_for_model(visits: list[Any]) -> list[dict[str, Any]]:
    return [{"visit_date": v.visit_date, "mmse": v.mmse, "moca": v.moca, "age_years": v.age_years}
            for v in visits if v.mmse is not None or v.moca is not None]  # fmt: skip


def patient_for_model(patient: Any, visits: list[Any]) -> dict[str, Any]:
    """Age (years, at the last visit), sex and years of education, where known.

    Empty without ``visits`` (with scores): the MCI model uses demographics only beside visits,
    so alone they are not sent (the model then runs on the scan alone, as ``stethoscan predict``).
    """
    out: dict[str, Any] = {}
    if patient is None or not visits:
        return out
    if patient.sex in ("F", "M"):
        out["sex"] = patient.sex
    if patient.education_years is not None:
        out["education_years"] = float(patient.education_years)
    scored = [v for v in visits if v.mmse is not None or v.moca is not None]
    last = scored[-1] if scored else None  # the visit whose age the model takes (as the CLI)
    if last is not None and last.age_years is not None:
        out["age_years"] = float(last.age_years)
    elif last is not None and patient.birth_date and last.visit_date:
        age = age_on(patient.birth_date, str(last.visit_date))
        if age is not None:
            out["age_years"] = age
    return out


def _series_folder(series: Any) -> str | None:
    instances = getattr(series, "instances", None) or []
    return str(Path(instances[0].path).parent) if instances else None


def _body_part(series: Any) -> str:
    """BodyPartExamined of the series' first file ("" when absent or unreadable), as the CLI
    reads it, so that both refuse the same series."""
    instances = getattr(series, "instances", None) or []
    if not instances:
        return ""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        header = pydicom.dcmread(instances[0].path, stop_before_pixels=True)
    except (OSError, InvalidDicomError):
        return ""
    return str(header.get("BodyPartExamined", "") or "")


def build_request(offer: ModelOffer, data: DataInFront, method: str | None = None,
                  saliency_options: dict[str, Any] | None = None) -> PredictionRequest:  # fmt: skip
    """The pipeline input for ``offer`` on ``data`` with saliency ``method`` (None: no map)."""
    entry = offer.entry
    options: dict[str, Any] = {"saliency": saliency_option(entry.pipeline, method)}
    if saliency_options:
        options["saliency_options"] = dict(saliency_options)
    described, input_path, ref = [], None, {"kind": "+".join(offer.inputs)}
    if "scan" in offer.inputs:
        series = data.series
        options.update(volume=data.volume, modality=data.modality,
                       description=getattr(series, "description", "") or "",
                       body_part=_body_part(series))  # fmt: skip
        input_path = _series_folder(series)
        ref.update(series_uid=getattr(series, "series_uid", "") or data.volume.series_uid,
                   volume_shape=list(data.volume.shape))  # fmt: skip
        described.append(f"{data.modality} series '{options['description'] or 'unnamed'}' "
                         f"({data.volume.shape[0]} slices)")  # fmt: skip
    if "audio" in offer.inputs:
        rec = data.recording
        input_path = rec.path
        ref.update(recording_id=rec.id, recording_path=rec.path)
        described.append(f"recording '{Path(rec.path).name}' ({rec.duration_s:.1f} s)")
    if "clinical_scores" in offer.inputs:
        visits = data.scored_visits
        options.update(visits=visits_for_model(visits), patient=patient_for_model(data.patient, visits))
        ref["visit_ids"] = [v.id for v in visits]
        described.append(f"{len(visits)} visit{'s' if len(visits) != 1 else ''} with cognitive scores")
    ref["text"] = " + ".join(described)
    return PredictionRequest(entry.name, entry.pipeline, input_path, options, ref)


# -- running and saving (inference worker) --------------------------------------------------
def run_prediction(request: PredictionRequest, store: Any, session_id: int, task: Any = None
                   ) -> SavedPrediction:  # fmt: skip
    """Predict, then save the result with session ``session_id``; runs in the inference pool."""
    from stethoscan.workflows.prediction_pipelines import predict

    prediction = predict(request.model_name, request.input_path, request.options, task)
    if task is not None:
        task.check_cancelled()
    return save_prediction(store, session_id, request.input, prediction)


def save_prediction(store: Any, session_id: int, input_ref: dict[str, Any], prediction: Any
                    ) -> SavedPrediction:  # fmt: skip
    """Store ``prediction`` (and its saliency map as NPZ) with the session; return it saved."""
    import json

    result = prediction.to_dict()
    result["input"] = input_ref
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    if prediction.saliency is not None:
        relative = Path("results") / f"session-{session_id}" / f"{stamp}-{prediction.model_name}.npz"
        target = paths.data_dir() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        quantized = np.round(np.clip(prediction.saliency, 0.0, 1.0) * 255).astype(np.uint8)
        np.savez_compressed(target, saliency=quantized)
        result["saliency_file"] = relative.as_posix()
    result = json.loads(json.dumps(result, default=_json_default))  # numpy scalars in details
    result_id = store.add_result(session_id, prediction.model_name, prediction.version,
                                 json.dumps(input_ref, sort_keys=True), result)  # fmt: skip
    return SavedPrediction(result_id, prediction, input_ref, datetime.now(UTC).isoformat(timespec="seconds"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def load_saliency(result: dict[str, Any]) -> np.ndarray | None:
    """The saved map as float32 in [0, 1], or None (no map, or its file is gone)."""
    name = result.get("saliency_file")
    if not name:
        return None
    target = paths.data_dir() / name
    if not target.is_file():
        return None
    with np.load(target, allow_pickle=False) as archive:
        return archive["saliency"].astype(np.float32) / 255.0


def prediction_from_row(row: dict[str, Any], with_saliency: bool = True) -> SavedPrediction:
    """A saved result (``store.list_results`` row) as a :class:`SavedPrediction`."""
    from stethoscan.inference.prediction import Prediction

    result = row["result"]
    known = {f.name for f in fields(Prediction)}
    prediction = Prediction(**{k: v for k, v in result.items() if k in known and k != "saliency"})
    if with_saliency:
        prediction.saliency = load_saliency(result)
    return SavedPrediction(int(row["id"]), prediction, dict(result.get("input") or {}),
                           str(row.get("created_at", "")))  # fmt: skip


def patient_result_rows(store: Any, patient_id: int) -> list[dict[str, Any]]:
    """The patient's saved results over all their sessions, newest first."""
    return sorted(store.list_results(patient_id=patient_id), key=lambda r: int(r["id"]),
                  reverse=True)
