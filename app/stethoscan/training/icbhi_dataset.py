"""Breathing-cycle data sets for the respiratory model: ICBHI 2017, a labelled folder, synthetic.

Three sources give the same thing, a list of :class:`AnnotatedRecording`:

(a) The ICBHI 2017 Respiratory Sound Database layout: ``<name>.wav`` with ``<name>.txt`` holding
    one line per breathing cycle, ``start_s end_s crackles(0/1) wheezes(0/1)``, tab or space
    separated. The official split file ``ICBHI_challenge_train_test.txt`` (lines ``<name>
    train|test``), anywhere in the folder, is used when present. The patient is the number
    before the first ``_`` of the name (``patient_diagnosis.csv`` is not needed).
(b) A folder of audio files with a CSV of labels (``labels.csv`` in the folder, or any single
    ``*.csv`` holding these columns): ``file,start_s,end_s,label`` where ``file`` is the audio
    file's path relative to the folder, times are in seconds and ``label`` is ``normal``,
    ``crackle``, ``wheeze`` or ``both``; optional columns ``split`` (``train``/``test``) and
    ``patient`` (recordings of one patient are kept in one split). Spreadsheet exports are read
    too: a byte-order mark, capitalised column names, semicolons with decimal commas.
(c) ``--synthetic N``: N cycles from :mod:`stethoscan.training.respiratory_synthesis`.

:func:`extract_cycles` turns them into model patches (see ``respiratory_features``) plus the
classical features of each cycle. One unreadable recording, annotation line or CSV row (bad
label, end before start, not a number) or a cycle outside its recording is skipped, and the reason
("file, row or times: why") lands in :attr:`CycleSet.skipped`, which the evaluator and trainer
report; the rest goes on.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stethoscan.core.errors import StethoscanError, TrainingDataError
from stethoscan.training.adventitious_sound_synthesis import SoundEvent
from stethoscan.training.respiratory_features import PatchSpec, cycle_patches, to_model_rate
from stethoscan.training.respiratory_synthesis import LABELS

_log = logging.getLogger(__name__)
SPLIT_FILE = "ICBHI_challenge_train_test.txt"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
_ICBHI_LINE = re.compile(r"^\s*([0-9.eE+-]+)\s+([0-9.eE+-]+)\s+([01])\s+([01])\s*$")


def label_of(crackles: bool, wheezes: bool) -> str:
    return LABELS[int(crackles) + 2 * int(wheezes)]


@dataclass
class CycleAnnotation:
    start_s: float
    end_s: float
    label: str
    events: list[SoundEvent] = field(default_factory=list)  # known only for synthetic cycles


@dataclass
class AnnotatedRecording:
    """A recording and its labelled cycles; ``samples`` is set for synthetic recordings."""

    name: str
    cycles: list[CycleAnnotation]
    path: Path | None = None
    patient: str = ""
    split: str | None = None  # "train" | "test" | None (choose by patient)
    samples: np.ndarray | None = None
    rate_hz: int = 0
    skipped: list[str] = field(default_factory=list)  # annotation rows dropped, with the reason

    def audio(self) -> tuple[np.ndarray, int]:
        """Mono samples and rate (Hz)."""
        if self.samples is not None:
            return self.samples, self.rate_hz
        from stethoscan.audio.audio_files import read_audio

        clip = read_audio(self.path)
        return clip.mono(), clip.rate_hz


# --- (a) ICBHI layout --------------------------------------------------------------------------
def read_icbhi_annotation(path: Path, skipped: list[str] | None = None) -> list[CycleAnnotation]:
    """Cycles of one ICBHI ``.txt`` file.

    A malformed line or a cycle whose end is not after its start raises TrainingDataError, or,
    when a ``skipped`` list is given, is left out and its reason appended to that list.
    """
    cycles = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = _ICBHI_LINE.match(line)
        if match is None:
            reason = (f"{path.name}, line {number}: not 'start end crackles wheezes' "
                      "(e.g. '0.36 3.25 0 1'); correct the line.")  # fmt: skip
        else:
            start, end = float(match[1]), float(match[2])
            if end > start:
                cycles.append(CycleAnnotation(start, end, label_of(match[3] == "1", match[4] == "1")))
                continue
            reason = _end_before_start(f"{path.name}, line {number}", start, end)
        if skipped is None:
            raise TrainingDataError(reason.replace(f"{path.name}, line {number}",
                                                   f"Line {number} of {path.name}", 1))  # fmt: skip
        skipped.append(reason)
    return cycles


def _end_before_start(where: str, start: float, end: float) -> str:
    return (f"{where}: the cycle ends ({end:g} s) before or when it starts ({start:g} s); "
            "correct the times.")  # fmt: skip


def read_split_file(folder: Path) -> dict[str, str]:
    """``name -> train|test`` from the official split file, if the folder has one."""
    found = sorted(folder.rglob(SPLIT_FILE))
    if not found:
        return {}
    split = {}
    for line in found[0].read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1].lower() in ("train", "test"):
            split[Path(parts[0]).stem] = parts[1].lower()
    return split


def read_icbhi_folder(folder: Path) -> list[AnnotatedRecording]:
    """Every ``.wav`` with a cycle ``.txt`` beside it, anywhere under ``folder``."""
    folder = Path(folder)
    split = read_split_file(folder)
    recordings = []
    for wav in sorted(folder.rglob("*.wav")):
        txt = wav.with_suffix(".txt")
        if not txt.is_file():
            continue
        skipped: list[str] = []
        cycles = read_icbhi_annotation(txt, skipped)
        if cycles or skipped:
            recordings.append(AnnotatedRecording(wav.stem, cycles, wav, wav.stem.split("_")[0],
                                                 split.get(wav.stem), skipped=skipped))  # fmt: skip
    return recordings


# --- (b) folder + CSV --------------------------------------------------------------------------
REQUIRED_COLUMNS = ("file", "start_s", "end_s", "label")


def find_label_csv(folder: Path) -> Path | None:
    """``labels.csv`` in the folder, else the one CSV there with the required columns."""
    preferred = folder / "labels.csv"
    if preferred.is_file():
        return preferred
    for path in sorted(folder.glob("*.csv")):
        if all(c in _csv_header(path) for c in REQUIRED_COLUMNS):
            return path
    return None


def csv_delimiter(header_line: str) -> str:
    """Comma, or the semicolon or tab that spreadsheet programs write in some locales."""
    if "," in header_line:
        return ","
    return next((d for d in (";", "\t") if d in header_line), ",")


def _csv_header(path: Path) -> list[str]:
    """Column names, lower case, without the byte-order mark a spreadsheet program may write."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        line = handle.readline()
    row = next(csv.reader([line], delimiter=csv_delimiter(line)), [])
    return [name.strip().lower() for name in row]


def _label_csv_hint(folder: Path) -> str:
    """A sentence about CSVs in ``folder`` that look like label files but lack columns."""
    hints = []
    for path in sorted(folder.glob("*.csv")):
        header = _csv_header(path)
        if "file" in header or "label" in header:
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            hints.append(f"{path.name} has the columns {', '.join(header)} but lacks "
                         f"{', '.join(missing)}.")  # fmt: skip
    return (" " + " ".join(hints)) if hints else ""


def read_label_csv(path: Path) -> list[AnnotatedRecording]:
    """Recordings and cycles from a ``file,start_s,end_s,label[,split][,patient]`` CSV.

    A row with an unknown label, a time that is not a number or an end not after its start is
    left out; its reason is in the ``skipped`` list of its file's recording. Recordings with
    neither cycles nor skipped rows are not returned.
    """
    path = Path(path)
    by_file: dict[str, AnnotatedRecording] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        delimiter = csv_delimiter(handle.readline())
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
        if missing:
            raise TrainingDataError(
                f"{path.name} lacks the column(s) {', '.join(missing)}; the label CSV needs "
                "file,start_s,end_s,label (label: normal, crackle, wheeze or both)."
            )
        for number, row in enumerate(reader, start=2):
            name = (row["file"] or "").strip()
            if name not in by_file:
                split = (row.get("split") or "").strip().lower() or None
                audio = path.parent / name
                by_file[name] = AnnotatedRecording(Path(name).stem, [], audio,
                                                   (row.get("patient") or "").strip() or Path(name).stem,
                                                   split if split in ("train", "test") else None)  # fmt: skip
            cycle, reason = _csv_cycle(row, f"{path.name}, row {number} ({name or 'no file'})",
                                       decimal_comma=delimiter != ",")
            if cycle is not None:
                by_file[name].cycles.append(cycle)
            else:
                by_file[name].skipped.append(reason)
    return [r for r in by_file.values() if r.cycles or r.skipped]


def _csv_cycle(row: dict, where: str, decimal_comma: bool = False) -> tuple[CycleAnnotation | None, str]:
    """The row's cycle, or None and the reason it is left out. ``decimal_comma``: times may be
    written ``1,25`` (spreadsheets that separate columns with semicolons)."""
    label = (row["label"] or "").strip().lower()
    if label not in LABELS:
        return None, (f"{where}: unknown label {row['label']!r}; use one of "
                      f"{', '.join(LABELS)}.")  # fmt: skip
    try:
        start, end = (_seconds(row[key], decimal_comma) for key in ("start_s", "end_s"))
    except (TypeError, ValueError):
        return None, (f"{where}: start_s {row['start_s']!r} or end_s {row['end_s']!r} is not a "
                      "number of seconds; correct it.")  # fmt: skip
    if not end > start:
        return None, _end_before_start(where, start, end)
    return CycleAnnotation(start, end, label), ""


def _seconds(text: str | None, decimal_comma: bool) -> float:
    text = (text or "").strip()
    return float(text.replace(",", ".") if decimal_comma else text)


# --- (c) synthetic and dispatch ----------------------------------------------------------------
def synthetic_recordings(n_cycles: int, seed: int) -> list[AnnotatedRecording]:
    """``n_cycles`` synthetic cycles in recordings of 3-8 cycles (events relative to the cycle)."""
    from stethoscan.training.respiratory_synthesis import synthesize_corpus

    recordings = []
    for index, rec in enumerate(synthesize_corpus(n_cycles, seed)):
        cycles = [
            CycleAnnotation(c.start_s, c.end_s, c.label, [
                SoundEvent(e.kind, e.start_s - c.start_s, e.end_s - c.start_s, e.low_hz, e.high_hz)
                for e in c.events
            ])
            for c in rec.cycles
        ]  # fmt: skip
        name = f"synthetic-{seed}-{index:05d}"
        recordings.append(AnnotatedRecording(name, cycles, None, name, None, rec.samples,
                                             rec.rate_hz))  # fmt: skip
    return recordings


def read_recordings(path: Path) -> list[AnnotatedRecording]:
    """ICBHI layout when ``.txt`` annotations sit beside the WAVs, else folder + label CSV."""
    path = Path(path)
    if not path.exists():
        raise TrainingDataError(f"The data folder {path} does not exist: check the path (--data).")
    if not path.is_dir():
        raise TrainingDataError(
            f"{path} is not a folder. Give the ICBHI database folder (WAV + TXT per recording) "
            "or a folder of recordings with a labels.csv."
        )
    label_csv = find_label_csv(path)
    recordings = read_label_csv(label_csv) if label_csv else read_icbhi_folder(path)
    if not any(r.cycles for r in recordings):
        reasons = [reason for r in recordings for reason in r.skipped]
        raise TrainingDataError(
            f"No labelled breathing cycles found in {path.name}: expected WAV files with ICBHI "
            "cycle files (.txt) beside them, or a labels.csv with file,start_s,end_s,label."
            + (f" Rows left out: {'; '.join(reasons[:3])}" if reasons else "")
            + ("" if label_csv else _label_csv_hint(path))
        )
    return recordings


# --- patches and classical features ------------------------------------------------------------
@dataclass
class CycleSet:
    """Model windows (``patches``) and cycles, with labels and groups for splitting.

    Windows: ``patches`` (W, n_mels, frames), ``window_labels`` (W,), ``window_cycle`` (W,)
    index into the cycle arrays, ``window_masks`` (W, n_mels, frames) evidence boxes or None.
    Cycles: ``labels`` (C,), ``groups`` (patient or recording), ``splits`` ("train", "test" or
    ""), ``features`` (C, F) classical features with ``feature_names``, ``cycle_info`` dicts.
    """

    patches: np.ndarray
    window_labels: np.ndarray
    window_cycle: np.ndarray
    window_masks: np.ndarray | None
    labels: np.ndarray
    groups: list[str]
    splits: list[str]
    features: np.ndarray
    feature_names: list[str]
    cycle_info: list[dict]
    skipped: list[str] = field(default_factory=list)
    sound_statistics: list[dict] = field(default_factory=list)  # per cycle (respiratory_applicability)

    @property
    def n_cycles(self) -> int:
        return int(self.labels.size)

    def windows_of(self, cycles: np.ndarray) -> np.ndarray:
        """Window indices that belong to the given cycle indices."""
        return np.flatnonzero(np.isin(self.window_cycle, cycles))

    def subset(self, cycles: np.ndarray) -> CycleSet:
        """The given cycles (and their windows) as a new set, cycles renumbered in order."""
        cycles = np.asarray(cycles, dtype=np.int64)
        windows = self.windows_of(cycles)
        renumber = np.full(self.n_cycles, -1, dtype=np.int64)
        renumber[cycles] = np.arange(cycles.size)
        return CycleSet(
            patches=self.patches[windows],
            window_labels=self.window_labels[windows],
            window_cycle=renumber[self.window_cycle[windows]],
            window_masks=None if self.window_masks is None else self.window_masks[windows],
            labels=self.labels[cycles],
            groups=[self.groups[i] for i in cycles],
            splits=[self.splits[i] for i in cycles],
            features=self.features[cycles],
            feature_names=self.feature_names,
            cycle_info=[self.cycle_info[i] for i in cycles],
            skipped=self.skipped,
            sound_statistics=[self.sound_statistics[i] for i in cycles] if self.sound_statistics else [],
        )


def window_label(events: list[SoundEvent], offset_s: float, segment_s: float, fallback: str) -> str:
    """The label of a window from the events inside it (synthetic), else the cycle's label."""
    if not events:
        return fallback
    inside = [e for e in events if e.end_s > offset_s + 0.02 and e.start_s < offset_s + segment_s - 0.02]
    crackles = any(e.kind != "wheeze" for e in inside)
    wheezes = any(e.kind == "wheeze" and min(e.end_s, offset_s + segment_s) - max(e.start_s, offset_s) >= 0.08
                  for e in inside)  # fmt: skip
    return label_of(crackles, wheezes)


def cycle_classical_features(samples: np.ndarray, start_s: float, end_s: float, spec: PatchSpec):
    """Names and values of the cycle's classical features (MFCC, LPC, spectral descriptors)."""
    from stethoscan.training.respiratory_features import classical_features

    a, b = int(round(start_s * spec.rate_hz)), int(round(end_s * spec.rate_hz))
    row = classical_features(samples[a:b], spec)
    return list(row), np.array(list(row.values()), dtype=np.float64)


def extract_cycles(recordings: list[AnnotatedRecording], spec: PatchSpec, *, seed: int = 0,
                   boundary_jitter_s: float = 0.0, with_masks: bool = False, task=None) -> CycleSet:  # fmt: skip
    """Patches, labels and classical features of every cycle (bad recordings skipped)."""
    from threadpoolctl import threadpool_limits

    # Small matrix products: several BLAS threads only fight over the two cores here.
    with threadpool_limits(1):
        return _extract_cycles(recordings, spec, seed, boundary_jitter_s, with_masks, task)


MIN_CYCLE_S = 0.2  # shorter cycles (after clipping to the recording) are skipped


def _short_cycle_reason(name: str, cycle: CycleAnnotation, duration_s: float) -> str:
    where = f"{name}, cycle {cycle.start_s:g}-{cycle.end_s:g} s"
    if cycle.start_s >= duration_s - MIN_CYCLE_S:
        return (f"{where}: the recording is only {duration_s:.2f} s long, so the cycle lies "
                "outside it; check the times or the file.")  # fmt: skip
    return f"{where}: shorter than {MIN_CYCLE_S:g} s within the recording; check the times."


def _extract_cycles(recordings, spec, seed, boundary_jitter_s, with_masks, task) -> CycleSet:
    from stethoscan.training.respiratory_domain_gap import cycle_sound_statistics
    from stethoscan.training.respiratory_features import event_mask

    rng = np.random.default_rng(seed)
    patches, w_labels, w_cycle, masks, sounds = [], [], [], [], []
    labels, groups, splits, feats, info, skipped = [], [], [], [], [], []
    names: list[str] = []
    for index, rec in enumerate(recordings):
        if task is not None:
            task.check_cancelled()
            task.progress(index / max(len(recordings), 1), f"Reading cycles ({index}/{len(recordings)})")
        skipped.extend(rec.skipped)
        if not rec.cycles:
            continue
        try:
            raw, rate = rec.audio()
        except StethoscanError as exc:
            skipped.append(f"{rec.name}: {exc}")
            _log.warning("Skipped a recording: %s", exc)
            continue
        x = to_model_rate(raw, rate, spec)
        duration = x.size / spec.rate_hz
        for cycle in rec.cycles:
            start, end = cycle.start_s, min(cycle.end_s, duration)
            if boundary_jitter_s > 0:
                start = max(0.0, start + rng.uniform(-boundary_jitter_s, boundary_jitter_s))
                end = min(duration, end + rng.uniform(-boundary_jitter_s, boundary_jitter_s))
            if end - start < MIN_CYCLE_S:
                skipped.append(_short_cycle_reason(rec.path.name if rec.path else rec.name, cycle,
                                                   duration))  # fmt: skip
                continue
            shift = start - cycle.start_s
            events = [SoundEvent(e.kind, e.start_s - shift, e.end_s - shift, e.low_hz, e.high_hz)
                      for e in cycle.events]  # fmt: skip
            cp = cycle_patches(x, start, end, spec)
            c_index = len(labels)
            for patch, offset in zip(cp.patches, cp.offsets_s, strict=True):
                patches.append(patch)
                w_labels.append(LABELS.index(window_label(events, offset, spec.segment_s, cycle.label)))
                w_cycle.append(c_index)
                if with_masks:
                    masks.append(event_mask(events, offset, cp.cycle_duration_s, spec))
            names, values = cycle_classical_features(x, start, end, spec)
            feats.append(values)
            sounds.append(cycle_sound_statistics(x[int(start * spec.rate_hz) : int(end * spec.rate_hz)], spec))
            labels.append(LABELS.index(cycle.label))
            groups.append(rec.patient or rec.name)
            splits.append(rec.split or "")
            info.append({"recording": rec.name, "start_s": round(start, 3), "end_s": round(end, 3),
                         "events": [e.__dict__ for e in events]})  # fmt: skip
    if not labels:
        raise TrainingDataError(
            "None of the recordings gave a usable breathing cycle (all unreadable or shorter than "
            "0.2 s). " + ("; ".join(skipped[:3]) if skipped else "")
        )
    return CycleSet(
        patches=np.stack(patches).astype(np.float32),
        window_labels=np.asarray(w_labels, dtype=np.int64),
        window_cycle=np.asarray(w_cycle, dtype=np.int64),
        window_masks=np.stack(masks) if with_masks else None,
        labels=np.asarray(labels, dtype=np.int64),
        groups=groups,
        splits=splits,
        features=np.nan_to_num(np.stack(feats)),
        feature_names=names,
        cycle_info=info,
        skipped=skipped,
        sound_statistics=sounds,
    )
