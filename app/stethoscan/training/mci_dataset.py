"""Data for the MCI model: history encoding, the synthetic cohort, and a folder reader (torch-free).

Folder data set (``stethoscan train mci --data PATH``): ``PATH/labels.csv`` with ONE ROW PER
VISIT and these columns (header required; extra columns are ignored):

=================  ==========================================================================
subject_id         groups the visits of one person (required)
label              CN | MCI | dementia (AD is accepted for dementia) - the diagnosis at the scan
image              a DICOM series folder or a .nii/.nii.gz file, relative to PATH; may be empty
                   (history only). Taken from the subject's last row that has one.
age_years          age at the visit (or at the scan when no visits are dated)
sex                F | M (optional)
education_years    years of schooling (optional)
visit_years        years since the subject's first visit (or ``visit_date`` as YYYY-MM-DD)
mmse, moca         scores 0-30, empty when not done (``cdr`` and others are ignored)
=================  ==========================================================================

A subject whose image cannot be used (not a T1 brain MRI, unreadable) is kept with its history
only and listed in the skipped reasons; one bad subject never stops the rest.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import StethoscanError, TrainingDataError, ValidationError
from stethoscan.core.task import SilentTask, Task
from stethoscan.imaging.volume import Volume

MAX_VISITS = 6
CLASSES = ("CN", "MCI", "dementia")
_LABEL_ALIASES = {"cn": 0, "nc": 0, "normal": 0, "hc": 0, "mci": 1, "dementia": 2, "ad": 2}
_AGE_MEAN, _AGE_SD, _EDU_MEAN, _EDU_SD = 73.0, 8.0, 14.0, 3.0


@dataclass
class HistoryInputs:
    """Encoded history: ``visits`` (MAX_VISITS, 6), ``visit_mask`` (MAX_VISITS,), ``static`` (6,).

    Visit features: MMSE/30, MMSE given, MoCA/30, MoCA given, years since the first visit / 5,
    years before the last visit / 5. Static: (age - 73)/8, age known, male, female,
    (education - 14)/3, education known.
    """

    visits: np.ndarray | None
    visit_mask: np.ndarray | None
    static: np.ndarray | None
    used_visits: int = 0


@dataclass
class MciSample:
    """One subject: model inputs (any may be None), label index, ground truth when synthetic."""

    image: np.ndarray | None  # float16 (z, y, x) normalised crop
    history: HistoryInputs
    label: int
    atrophy_mask: np.ndarray | None = None
    subject_id: str = ""
    figures: dict[str, float] = field(default_factory=dict)


# -- history encoding ------------------------------------------------------------------------
def _score(value: Any, name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        score = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The {name.upper()} score {value!r} is not a number.") from exc
    if not np.isfinite(score) or not 0 <= score <= 30:
        raise ValidationError(f"The {name.upper()} score {score:g} is outside 0-30.")
    return score


def _visit_time(visit: dict, index: int) -> float:
    if visit.get("years_from_first") not in (None, ""):
        return float(visit["years_from_first"])
    if visit.get("visit_date"):
        from stethoscan.records.visit_dates import parse_date

        day = parse_date(str(visit["visit_date"]))
        if day is None:  # e.g. 03/01/2020: month or day first? Not guessed.
            raise ValidationError(f"The visit date {visit['visit_date']!r} is not a date: write it as "
                                  "YYYY-MM-DD.")  # fmt: skip
        return day.toordinal() / 365.25
    return float(index)  # undated visits: assumed a year apart, in the given order


def encode_history(visits: list[dict] | None, patient: dict | None = None,
                   max_visits: int = MAX_VISITS) -> HistoryInputs:
    """Encode visits (dicts with mmse, moca, years_from_first or visit_date, age_years) and the
    patient (age_years, sex, education_years); None where nothing was given. Without a visit with
    MMSE or MoCA there is no history at all: the demographics count only beside scores."""
    patient = dict(patient or {})
    rows = []
    for index, visit in enumerate(visits or []):
        mmse, moca = _score(visit.get("mmse"), "mmse"), _score(visit.get("moca"), "moca")
        if mmse is None and moca is None:
            continue
        rows.append((_visit_time(visit, index), mmse, moca, visit.get("age_years")))
    rows.sort(key=lambda r: r[0])
    rows = rows[-max_visits:]
    static = _encode_static(patient, rows)  # validates age and education even without visits
    if not rows:  # demographics alone are no history (as in prediction): the model sees none
        return HistoryInputs(None, None, None, 0)
    first, last = rows[0][0], rows[-1][0]
    features = np.zeros((max_visits, 6), np.float32)
    mask = np.zeros(max_visits, bool)
    for n, (t, mmse, moca, _age) in enumerate(rows):
        features[n] = [(mmse or 0.0) / 30, mmse is not None, (moca or 0.0) / 30, moca is not None,
                       (t - first) / 5.0, (last - t) / 5.0]
        mask[n] = True
    return HistoryInputs(features, mask, static, len(rows))


def _encode_static(patient: dict, rows: list[tuple]) -> np.ndarray | None:
    age = patient.get("age_years")
    if age in (None, "") and rows and rows[-1][3] not in (None, ""):
        age = rows[-1][3]
    sex = str(patient.get("sex") or "").upper()[:1]
    education = patient.get("education_years")
    if age in (None, "") and sex not in ("F", "M") and education in (None, ""):
        return None
    age_known, edu_known = age not in (None, ""), education not in (None, "")
    if age_known and not 18 <= float(age) <= 110:
        raise ValidationError(f"The age {float(age):g} years is outside 18-110.")
    if edu_known and not 0 <= float(education) <= 30:
        raise ValidationError(f"The education {float(education):g} years is outside 0-30.")
    return np.array([
        (float(age) - _AGE_MEAN) / _AGE_SD if age_known else 0.0, float(age_known),
        float(sex == "M"), float(sex == "F"),
        (float(education) - _EDU_MEAN) / _EDU_SD if edu_known else 0.0, float(edu_known),
    ], np.float32)


# -- synthetic cohort ------------------------------------------------------------------------
def synthetic_dataset(count: int, seed: int, task: Task | None = None, keep_masks: bool = True,
                      template_path: Path | None = None) -> list[MciSample]:
    """``count`` synthetic subjects, classes balanced, reproducible for a given seed."""
    from stethoscan.training.brain_synthesis import load_template, synthesize_brain
    from stethoscan.training.mci_cohort import draw_subject

    task = task or SilentTask()
    template = load_template(template_path)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 3)
    samples = []
    for n, label in enumerate(labels):
        task.check_cancelled()
        subject = draw_subject(int(label), rng)
        brain = synthesize_brain(template, subject.changes, rng, subject.size_scale)
        patient = {"age_years": subject.age_years, "sex": subject.sex,
                   "education_years": subject.education_years}
        samples.append(MciSample(
            brain.image.astype(np.float16), encode_history(subject.visits, patient), int(label),
            brain.atrophy_mask if keep_masks else None, f"synthetic-{seed}-{n}", brain.figures,
        ))
        task.progress((n + 1) / count, f"synthetic brain {n + 1}/{count}")
    return samples


# -- folder data set -------------------------------------------------------------------------
def parse_label(value: str) -> int:
    key = str(value).strip().lower()
    if key not in _LABEL_ALIASES:
        raise TrainingDataError(f"Unknown label {value!r}; use CN, MCI or dementia.")
    return _LABEL_ALIASES[key]


_NUMERIC_COLUMNS = ("age_years", "education_years", "visit_years", "mmse", "moca")


def read_label_table(csv_path: Path) -> dict[str, dict]:
    """Group the CSV rows by subject: {subject_id: {label, image, patient, visits}}."""
    if not csv_path.is_file():
        raise TrainingDataError(f"{csv_path} is missing; the data folder needs a labels.csv.")
    from stethoscan.training.icbhi_dataset import csv_delimiter

    subjects: dict[str, dict] = {}
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        delimiter = csv_delimiter(handle.readline())  # spreadsheets may write ; and decimal commas
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        if "subject_id" not in reader.fieldnames:
            raise TrainingDataError(f"{csv_path.name} needs a header with a subject_id column "
                                    f"(it has: {', '.join(reader.fieldnames) or 'none'}).")  # fmt: skip
        for raw in reader:
            row = {k: (v.replace(",", ".") if delimiter != "," and k in _NUMERIC_COLUMNS and v else v)
                   for k, v in raw.items()}  # fmt: skip
            sid = (row.get("subject_id") or "").strip()
            if not sid:
                continue
            entry = subjects.setdefault(sid, {"label": None, "image": "", "patient": {}, "visits": []})
            if (row.get("label") or "").strip():
                entry["label"] = row["label"].strip()
            if (row.get("image") or "").strip():
                entry["image"] = row["image"].strip()
            for key in ("age_years", "sex", "education_years"):
                if (row.get(key) or "").strip():
                    entry["patient"][key] = row[key].strip()
            entry["visits"].append({
                "years_from_first": row.get("visit_years") or None,
                "visit_date": row.get("visit_date") or None, "age_years": row.get("age_years") or None,
                "mmse": row.get("mmse"), "moca": row.get("moca"),
            })
    return subjects


def folder_dataset(root: Path, task: Task | None = None) -> tuple[list[MciSample], list[str]]:
    """Read ``root/labels.csv`` and its images; returns the samples and the skip reasons."""
    from stethoscan.imaging.brain_preprocessing import preprocess_brain

    task = task or SilentTask()
    subjects = read_label_table(Path(root) / "labels.csv")
    samples, skipped = [], []
    for n, (sid, entry) in enumerate(subjects.items()):
        task.check_cancelled()
        try:
            label = parse_label(entry["label"] or "")
            history = encode_history(entry["visits"], entry["patient"])
        except StethoscanError as exc:
            skipped.append(f"subject {sid}: {exc}")
            continue
        image = None
        if entry["image"]:
            try:
                volume, hints = load_volume_any(Path(root) / entry["image"])
                image = preprocess_brain(volume, **hints).model_input.astype(np.float16)
            except StethoscanError as exc:
                skipped.append(f"subject {sid}: image not used ({exc})")
        if image is None and history.visits is None:
            skipped.append(f"subject {sid}: neither a usable image nor scores")
            continue
        samples.append(MciSample(image, history, label, None, sid))
        task.progress((n + 1) / len(subjects), f"subject {n + 1}/{len(subjects)}")
    if not samples:
        raise TrainingDataError(f"No usable subject in {root}: " + "; ".join(skipped[:5]))
    return samples, skipped


# -- volumes ---------------------------------------------------------------------------------
def load_volume_any(path: Path, task: Task | None = None) -> tuple[Volume, dict[str, str]]:
    """A DICOM series (folder or file) or a NIfTI file as a Volume, with header hints
    (``description``, ``body_part``) for :func:`~stethoscan.imaging.brain_preprocessing.check_series`."""
    path = Path(path)
    if path.name.lower().endswith((".nii", ".nii.gz")):
        return _load_nifti(path), {"description": "", "body_part": ""}
    return _load_dicom_series(path, task or SilentTask())


def _load_dicom_series(path: Path, task: Task) -> tuple[Volume, dict[str, str]]:
    """The best T1 candidate of a DICOM folder: MR, most slices, T1 named first."""
    import pydicom

    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.volume_loader import load_volume

    index = index_paths([Path(path)], task)
    series = index.all_series()
    if not series:
        reasons = "; ".join(s.reason for s in index.skipped[:3])
        raise TrainingDataError(f"No DICOM image series was found in {Path(path).name}. {reasons}")

    def rank(info) -> tuple:
        t1 = any(k in (info.description or "").upper() for k in ("T1", "MPRAGE", "SPGR"))
        return (info.modality == "MR", t1, info.number_of_slices)

    best = max(series, key=rank)
    volume = load_volume(best, task)
    header = pydicom.dcmread(best.instances[0].path, stop_before_pixels=True)
    hints = {"description": str(best.description or header.get("SeriesDescription", "")),
             "body_part": str(header.get("BodyPartExamined", "") or "")}
    if not volume.modality:
        volume.modality = best.modality
    return volume, hints


def _load_nifti(path: Path) -> Volume:
    """NIfTI (RAS affine) -> Volume (LPS direction, (slice, row, column) voxels)."""
    import nibabel as nib

    try:
        image = nib.load(str(path))
        data = np.asarray(image.dataobj)
    except (OSError, ValueError, nib.filebasedimages.ImageFileError) as exc:
        raise TrainingDataError(f"{path.name} is not a readable NIfTI file ({exc}).") from exc
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise TrainingDataError(f"{path.name} is not a 3D volume (shape {data.shape}).")
    affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ image.affine  # RAS -> LPS
    spacing = np.linalg.norm(affine[:3, :3], axis=0)
    direction = affine[:3, :3] / spacing
    voxels = np.ascontiguousarray(data.transpose(2, 1, 0)).astype(np.float32)
    return Volume(voxels=voxels, spacing_mm=(float(spacing[2]), float(spacing[1]), float(spacing[0])),
                  origin_mm=tuple(float(v) for v in affine[:3, 3]), direction=direction,
                  modality="MR")
