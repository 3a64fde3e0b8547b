"""The bundled demo patient: a reduced public-domain brain MRI and a CC0 stethoscope recording.

``prepare_demo_patient`` creates (or finds) the demo patient in the database (``is_demo=1``) with
the recording as an imported take and its expert cycle annotations as markers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stethoscan.core import paths
from stethoscan.core.errors import StethoscanError
from stethoscan.records.patient_store import Patient, PatientStore

DEMO_PATIENT_KEY = "DEMO"
DEMO_PATIENT_NAME = "DEMO^Patient"


@dataclass
class DemoPatient:
    patient: Patient
    session_id: int
    scan_dir: Path
    recording_id: int | None


def demo_dir() -> Path:
    return paths.resources_dir() / "demo"


def read_cycle_annotations(path: Path) -> list[tuple[float, float, str, str]]:
    """ICBHI cycle lines (start s, end s, crackles, wheezes) as markers for the patient store."""
    markers = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) != 4:
            continue
        start, end, crackles, wheezes = float(fields[0]), float(fields[1]), fields[2], fields[3]
        markers.append((start, end, "breathing cycle", "clinician"))
        if crackles == "1":
            markers.append((start, end, "crackles", "clinician"))
        if wheezes == "1":
            markers.append((start, end, "wheezes", "clinician"))
    return markers


def prepare_demo_patient(store: PatientStore) -> DemoPatient:
    """Create or find the demo patient, its session and its recording; return where the scan is."""
    scan_dir = demo_dir() / "scan"
    if not scan_dir.is_dir():
        raise StethoscanError(
            "The demo patient is missing from this installation (resources/demo/scan). "
            "Reinstall Stethoscan, or rebuild it with packaging/make_demo_data.py."
        )
    patient = store.upsert_patient(DEMO_PATIENT_KEY, DEMO_PATIENT_NAME, sex="O", is_demo=True)
    wavs = sorted((demo_dir() / "audio").glob("*.wav"))
    existing = {Path(r.path).resolve(): r for r in store.list_recordings(patient_id=patient.id)}
    recording_id = None
    session_id = store.latest_session(patient.id)
    for wav in wavs[:1]:
        known = existing.get(wav.resolve())
        if known is not None:
            recording_id, session_id = known.id, known.session_id
            continue
        if session_id is None:
            session_id = store.start_session(patient.id, "Demo session")
        recording_id = _add_recording(store, session_id, wav)
    if session_id is None:
        session_id = store.start_session(patient.id, "Demo session")
    return DemoPatient(patient, session_id, scan_dir, recording_id)


def _add_recording(store: PatientStore, session_id: int, wav: Path) -> int:
    import soundfile

    info = soundfile.info(str(wav))
    recording_id = store.add_recording(
        session_id, str(wav), int(info.samplerate), task="breath", device="Littmann 3200 (ICBHI 2017)",
        channels=int(info.channels), duration_s=float(info.duration), status="imported",
    )
    annotations = wav.with_suffix(".txt")
    if annotations.is_file():
        store.replace_markers(recording_id, read_cycle_annotations(annotations))
    return recording_id
