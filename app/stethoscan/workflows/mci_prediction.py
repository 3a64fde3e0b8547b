"""Run the MCI model (pipeline ``mci_fusion``) on a brain MRI and/or a cognitive history.

API for the GUI (all GUI-free; run in the inference worker):

- ``run(model, input_path, options, task) -> Prediction``. ``model`` is a loaded package
  (``runtime.load_model("mci-fusion")``); ``input_path`` a DICOM series folder/file or a NIfTI
  file, or None for history only. ``options``:

  - ``"volume"``: an already loaded :class:`Volume` (then ``input_path`` is not read), with
    ``"description"`` and ``"body_part"`` hints from the series header;
  - ``"visits"``: list of dicts ``{"visit_date": "YYYY-MM-DD" or "years_from_first": float,
    "mmse": 0-30 | None, "moca": 0-30 | None, "age_years": float | None}``;
  - ``"patient"``: ``{"age_years", "sex": "F" | "M", "education_years"}``;
  - ``"patient_id"``: read visits and patient from the patient database instead;
  - ``"saliency"``: ``"gradcam"`` (default when the package validated it) or None. A method
    the package did not validate is not computed: the Prediction then says so in ``warnings``.

  Age, sex and education are used only together with at least one visit with MMSE or MoCA:
  the bundled model never saw demographics without scores (its synthetic subjects all have
  visits), so for every package without visits the model runs on the MRI alone
  (its "missing history" embedding, the card's "image only" figures), whatever the patient.

  The Prediction carries calibrated probabilities, ``inputs_used`` ("scan", "clinical_scores"),
  ``contributions`` (probability of the top label with all inputs minus with that input replaced
  by the model's "missing" embedding; 0 for an input not used), ``details["history_inputs"]`` (what
  the history held: "MMSE", "MoCA", "age", "sex", "education"), ``warnings`` (missing or
  refused inputs), and the Grad-CAM
  map ON THE ORIGINAL VOLUME GRID (slices, rows, cols; float32 in [0, 1]) with
  ``saliency_regions`` such as "left hippocampus region, slices 40-52". ``details["overlays"]``
  is not filled (arrays are big): call :func:`preprocess_for_viewer` for the mask/box overlays.
- ``preprocess_for_viewer(volume, description, body_part) -> dict`` of overlay specs for
  ``AppContext.scan_overlay_changed`` (brain mask, model box), or raises InputMismatchError.
- ``preprocess_brain_for_model(volume, hints) -> BrainPreprocessing``: every intermediate
  (canonical 2 mm volume, mask, crop box, model input, ``box_to_original``) for other overlays.

GUI sketch: the clinical-scores form saves visits with ``PatientStore.add_visit``; the model
panel runs ``run(model, None, {"volume": context.volume, "description": series.description,
"patient_id": patient.id})`` in the inference worker, shows ``probabilities`` with
``descriptions``, ``inputs_used``/``contributions`` as bars, ``warnings`` and the disclaimer,
and emits ``scan_overlay_changed("saliency", {"data": prediction.saliency, "kind": "heatmap",
...})`` plus the specs of ``preprocess_for_viewer`` as optional overlays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import InputMismatchError, SeriesGeometryError, ValidationError
from stethoscan.core.task import SilentTask, Task

SCAN, SCORES = "scan", "clinical_scores"


def preprocess_for_viewer(volume: Any, description: str = "", body_part: str = "") -> dict[str, dict]:
    """Overlay specs (original voxel grid) of the preprocessing steps: brain mask and model box."""
    return preprocess_brain_for_model(volume, {"description": description,
                                               "body_part": body_part}).overlays()


def preprocess_brain_for_model(volume: Any, hints: dict[str, str] | None = None):
    """Every preprocessing intermediate (:class:`BrainPreprocessing`) of a loaded volume."""
    from stethoscan.imaging.brain_preprocessing import preprocess_brain

    return preprocess_brain(volume, **(hints or {}))


def run(model: Any, input_path: str | Path | None, options: dict[str, Any] | None = None,
        task: Task | None = None):
    """Predict CN / MCI / dementia; see the module docstring."""
    from stethoscan.inference.prediction import Prediction

    options = dict(options or {})
    task = task or SilentTask()
    warnings: list[str] = []
    history = _history(options, warnings)
    task.progress(0.05, "reading the scan")
    pre, volume = _preprocessed_scan(input_path, options, history, warnings, task)
    if pre is None and history.visits is None:
        raise InputMismatchError(
            "The MCI model needs a T1 brain MRI or the patient's cognitive scores; neither was given."
        )
    task.check_cancelled()
    inputs = _model_inputs(pre, history)
    task.progress(0.6, "running the model")
    probs, contributions = _predict(model, inputs)
    top = int(np.argmax(probs))
    used = ([SCAN] if pre is not None else []) + ([SCORES] if history.visits is not None else [])
    extra: dict[str, Any] = {}
    method = options.get("saliency", "gradcam" if "gradcam" in model.validated_saliency_methods else None)
    if pre is not None and method:
        task.progress(0.75, "computing the saliency map")
        try:
            extra = {**_saliency(model, pre, method, top), "underlay": volume}
        except ValidationError as exc:  # a method that failed its sanity checks is not offered
            warnings.append(f"No saliency map: {exc}")
    elif method and pre is None:
        warnings.append("No saliency map: the scan was not used.")
    task.progress(1.0, "done")
    details = {"visits_used": history.used_visits, "history_inputs": history_inputs(history),
               "pipeline": "mci_fusion"}
    if pre is not None:
        details["preprocessing"] = {**pre.checks, "crop_start": list(pre.box.start),
                                    "crop_shape": list(pre.box.shape), "orientation": "LPS",
                                    "spacing_mm": pre.canonical.spacing_mm[0]}
    return Prediction.from_probabilities(
        model.manifest, probs, warnings=warnings, inputs_used=used,
        contributions=contributions, details=details, **extra,
    )


# -- inputs ----------------------------------------------------------------------------------
def _history(options: dict[str, Any], warnings: list[str]):
    """The encoded history as the model may use it: no visit with scores, no history at all.

    Demographics alone are dropped: the model was trained with age, sex and education only
    beside visits, so alone they would move the result outside anything it learned.
    """
    from stethoscan.training.mci_dataset import encode_history

    visits, patient = options.get("visits"), options.get("patient")
    if options.get("patient_id") is not None and visits is None:
        visits, patient = _records(int(options["patient_id"]), patient)
    history = encode_history(visits, patient)  # no scored visit: no history, demographics too
    if history.visits is None:
        demographics = any(str((patient or {}).get(key) or "").strip()
                           for key in ("age_years", "sex", "education_years"))
        warnings.append("No cognitive scores (MMSE/MoCA) were given: the history was not used"
                        + (" (age, sex and education count only together with at least one "
                           "visit with scores)." if demographics else "."))
        history = replace(history, static=None)
    return history


def history_inputs(history) -> list[str]:
    """What an encoded history gives the model: "MMSE", "MoCA", "age", "sex", "education"."""
    if history.visits is None:
        return []
    rows = history.visits[history.visit_mask]
    names = [name for name, column in (("MMSE", 1), ("MoCA", 3)) if rows[:, column].any()]
    static = history.static
    if static is not None:
        names += [name for name, known in (("age", static[1]), ("sex", static[2] + static[3]),
                                           ("education", static[5])) if known]
    return names


def _records(patient_id: int, patient: dict | None) -> tuple[list[dict], dict]:
    from stethoscan.records.patient_store import PatientStore

    store = PatientStore()
    try:
        record = store.get_patient(patient_id)
        visits = [{"visit_date": v.visit_date, "age_years": v.age_years, "mmse": v.mmse,
                   "moca": v.moca} for v in store.list_visits(patient_id)]
    finally:
        store.close()
    merged = {"sex": record.sex, "education_years": record.education_years, **(patient or {})}
    if merged.get("age_years") is None and record.birth_date and visits:
        born = date.fromisoformat(record.birth_date[:10])
        last = date.fromisoformat(str(visits[-1]["visit_date"])[:10])
        merged["age_years"] = (last - born).days / 365.25
    return visits, merged


def _preprocessed_scan(input_path, options, history, warnings, task):
    from stethoscan.imaging.brain_preprocessing import preprocess_brain

    volume = options.get("volume")
    hints = {"description": options.get("description", ""), "body_part": options.get("body_part", "")}
    if volume is None and not input_path:
        warnings.append("No brain MRI was given: the result rests on the cognitive history only.")
        return None, None
    try:
        if volume is None:
            from stethoscan.training.mci_dataset import load_volume_any

            volume, hints = load_volume_any(Path(input_path), task)
        task.progress(0.3, "preprocessing the brain MRI")
        pre = preprocess_brain(volume, **hints)
    except (InputMismatchError, SeriesGeometryError, ValidationError) as exc:
        if history.visits is None:
            raise
        warnings.append(f"The scan was not used: {exc}")
        return None, None
    warnings.extend(pre.warnings)
    return pre, volume


def _model_inputs(pre, history) -> dict[str, np.ndarray | None]:
    def batch(array):
        return None if array is None else array[None]

    return {"image": None if pre is None else pre.model_input[None, None],
            "visits": batch(history.visits), "visit_mask": batch(history.visit_mask),
            "static": batch(history.static)}


def _predict(model: Any, inputs: dict) -> tuple[np.ndarray, dict[str, float]]:
    """Calibrated probabilities and input contributions from one pass of each branch."""
    from stethoscan.inference.architectures.mci_fusion import logits_and_contributions
    from stethoscan.inference.runtime import to_tensors

    logits, contributions = logits_and_contributions(
        model.module, to_tensors(inputs, model.device), model.temperature)
    return model.calibrate(logits.float().cpu().numpy())[0], contributions


# -- saliency --------------------------------------------------------------------------------
def _saliency(model: Any, pre, method: str, target: int) -> dict[str, Any]:
    return saliency_on_original_grid(model, pre, method, target)


def saliency_on_original_grid(model: Any, pre, method: str, target: int,
                              require_validated: bool = True) -> dict[str, Any]:
    """The map of the image branch (computed with the image alone, as in the sanity checks),
    zero outside the brain mask, mapped onto the ORIGINAL voxel grid, with its regions named.

    ``require_validated=False`` is for developers and benchmarks only: the program offers only
    methods that passed the package's sanity checks.
    """
    from stethoscan.inference.saliency.compute import compute_saliency

    cam = compute_saliency(model, {"image": pre.model_input[None, None]}, method, target,
                           require_validated=require_validated)
    cam = np.where(pre.box_mask, cam, 0.0).astype(np.float32)  # the model sees only the brain
    original = pre.box_to_original(cam)
    return {"saliency": original, "saliency_space": "volume", "saliency_method": method,
            "saliency_regions": name_regions(cam, pre)}


def name_regions(cam: np.ndarray, pre, top_k: int = 3) -> list[str]:
    """The strongest regions of a crop-grid map in words, with ORIGINAL slice numbers (1-based)."""
    from scipy import ndimage

    from stethoscan.inference.saliency.regions import find_regions

    atlas = _RegionAtlas.for_input(pre.box_mask)
    labels, _ = ndimage.label(cam >= 0.5 * cam.max())  # the same components as find_regions
    out = []
    for region in find_regions(cam, top_k=top_k, threshold=0.5):
        centre = tuple(int(round(c)) for c in region.centroid)
        component = labels == labels[centre] if labels[centre] else _box(cam.shape, region.ranges)
        slices = pre.original_slices_of_box_region(component)
        name = atlas.name_at(region.centroid)
        where = f"slices {slices[0] + 1}-{slices[1] + 1}" if slices else ""
        out.append(f"{name} region, {where} ({region.share:.0%} of the map)")
    return out


def _box(shape, ranges) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[tuple(slice(a, b + 1) for a, b in ranges)] = True
    return mask


class _RegionAtlas:
    """The template's approximate labels, aligned to an input by the brain bounding boxes."""

    def __init__(self, template, input_bbox: np.ndarray) -> None:
        self.template, self.input_bbox = template, input_bbox

    @classmethod
    def for_input(cls, box_mask: np.ndarray) -> _RegionAtlas:
        from stethoscan.training.brain_synthesis import load_template

        coords = np.nonzero(box_mask)
        bbox = np.array([[c.min(), c.max()] for c in coords], float)
        return cls(load_template(), bbox)

    def name_at(self, zyx: tuple[float, ...]) -> str:
        from stethoscan.training.brain_synthesis import REGION_NAMES

        t_bbox = self.template.bbox
        frac = (np.asarray(zyx) - self.input_bbox[:, 0]) / np.maximum(np.ptp(self.input_bbox, axis=1), 1)
        point = np.rint(t_bbox[:, 0] + frac * np.ptp(t_bbox, axis=1)).astype(int)
        point = np.clip(point, 0, np.asarray(self.template.labels.shape) - 1)
        code = int(self.template.labels[tuple(point)])
        if code == 0:  # just outside the template's brain: the nearest labelled voxel
            window = self.template.labels[tuple(slice(max(p - 3, 0), p + 4) for p in point)]
            codes = window[window > 0]
            code = int(np.bincount(codes).argmax()) if codes.size else 0
        return REGION_NAMES.get(code, "brain")
