"""The bundled MCI model gives the same answer through the GUI's request and `stethoscan predict`.

Without any visit with MMSE/MoCA the model runs on the MRI alone, whatever the patient's sex,
age or education (the model never saw demographics without scores); with visits, the GUI (visits
from the database) and the CLI (``--visits CSV``) feed it the same history.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from stethoscan.cli import main as cli_main
from stethoscan.core.errors import InputMismatchError
from stethoscan.gui.models.model_fit import DataInFront, offer_for
from stethoscan.gui.models.prediction_request import build_request
from stethoscan.records.patient_store import PatientStore
from stethoscan.workflows import mci_prediction
from stethoscan.workflows.prediction_pipelines import predict

pytestmark = pytest.mark.real_data
MODEL = "mci-fusion"
VISITS = (("2021-03-01", 28, 25, 74.2), ("2022-03-03", 26, 22, 75.2), ("2023-03-02", 24, 19, 76.2))


@pytest.fixture(scope="module")
def brain(shared_data):
    """The real T1 series opened as the scan viewer opens it: (series, volume, folder)."""
    from stethoscan.core.task import SilentTask
    from stethoscan.gui.viewer import imaging_bridge

    folder = shared_data / "brain-t1-dicom"
    series = imaging_bridge.index_paths([str(folder)], SilentTask()).all_series()
    best = max(series, key=lambda s: s.number_of_slices)
    return best, imaging_bridge.load_volume(best, SilentTask()), folder


@pytest.fixture
def store(tmp_path):
    store = PatientStore(tmp_path / "patients.sqlite3")
    yield store
    store.close()


def gui_prediction(brain, patient, visits=()):
    """What the Models panel runs for the open series, the patient and their visits."""
    from stethoscan.inference.registry import find_package

    series, volume, _ = brain
    data = DataInFront(volume=volume, series=series, patient=patient, visits=list(visits))
    request = build_request(offer_for(find_package(MODEL), data), data, method=None)
    return predict(request.model_name, request.input_path, request.options)


def cli_prediction(capsys, *args):
    """``stethoscan predict --model mci-fusion --json ...`` in-process; its JSON as a dict."""
    capsys.readouterr()
    assert cli_main(["predict", "--model", MODEL, "--json", *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


def test_without_visits_gui_and_cli_agree_and_demographics_change_nothing(brain, store, capsys):
    cli = cli_prediction(capsys, brain[2])
    woman = store.upsert_patient("QA-F", "Test^Woman", "19790101", "F", 16)
    man = store.upsert_patient("QA-M", "Test^Man", "19790101", "M", 16)
    for patient in (woman, man):
        gui = gui_prediction(brain, patient)
        assert np.allclose(gui.probabilities, cli["probabilities"], atol=1e-6, rtol=0)
        assert gui.inputs_used == cli["inputs_used"] == ["scan"]
        assert gui.contributions["clinical_scores"] == 0  # it was not used
        assert gui.details["history_inputs"] == []
    # the QA case: demographics handed straight to the workflow are not a history either
    model = _model()
    for patient in ({"sex": "F"}, {"sex": "M"}, {"sex": "F", "age_years": 47, "education_years": 16}):
        options = {"volume": brain[1], "visits": [], "patient": patient, "saliency": None}
        alone = mci_prediction.run(model, None, options)
        assert np.allclose(alone.probabilities, cli["probabilities"], atol=1e-6, rtol=0)
        assert alone.inputs_used == ["scan"]
        assert any("history was not used (age, sex and education count only" in w
                   for w in alone.warnings)


def test_with_visits_gui_and_cli_feed_the_same_history(brain, store, capsys, tmp_path):
    patient = store.upsert_patient("QA-V", "Test^Visits", "19470101", "F", 12)
    for day, mmse, moca, age in VISITS:
        store.add_visit(patient.id, day, age_years=age, mmse=mmse, moca=moca)
    csv = tmp_path / "visits.csv"
    csv.write_text("visit_date,mmse,moca,age_years\n"
                   + "".join(f"{d},{m},{c},{a}\n" for d, m, c, a in VISITS), encoding="utf-8")
    gui = gui_prediction(brain, patient, store.list_visits(patient.id))
    cli = cli_prediction(capsys, brain[2], "--visits", csv, "--sex", "F", "--education-years", 12)
    assert np.allclose(gui.probabilities, cli["probabilities"], atol=1e-6, rtol=0)
    assert gui.inputs_used == cli["inputs_used"] == ["scan", "clinical_scores"]
    assert gui.details["history_inputs"] == cli["details"]["history_inputs"] == [
        "MMSE", "MoCA", "age", "sex", "education"]
    # the scores themselves count: the same brain without them gives another answer
    mri_only = cli_prediction(capsys, brain[2])
    assert not np.allclose(mri_only["probabilities"], cli["probabilities"], atol=1e-3)


def test_the_cli_reads_the_visits_and_says_which_inputs_it_used(capsys, tmp_path):
    csv = tmp_path / "visits.csv"
    csv.write_text("years_from_first,mmse,moca\n0,24,\n1,21,16\n2,18,13\n", encoding="utf-8")
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(csv), "--sex", "M"]) == 0
    out = capsys.readouterr().out
    assert "Inputs used: clinical_scores (MMSE, MoCA, sex)" in out and "pts" in out
    assert "Not for diagnostic use" in out
    # demographics alone, without a scan or a visit, are refused rather than predicted on
    assert cli_main(["predict", "--model", MODEL, "-", "--sex", "M", "--age-years", "70"]) == 1
    assert "needs a T1 brain MRI or the patient's cognitive scores" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("visit_date,mmse\n2020-01-01,twenty\n", encoding="utf-8")
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(bad)]) == 1
    assert "line 2: mmse 'twenty' is not a number" in capsys.readouterr().err
    us = tmp_path / "us.csv"  # month/day/year: refused with a sentence, not a traceback
    us.write_text("visit_date,mmse\n03/01/2021,24\n", encoding="utf-8")
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(us)]) == 1
    assert "line 2: visit_date '03/01/2021' is not a date: write it as YYYY-MM-DD" in capsys.readouterr().err
    dicom = tmp_path / "dicom.csv"  # DICOM dates are read as the GUI reads them
    dicom.write_text("visit_date,mmse\n2021/03/01,24\n20220302,21\n", encoding="utf-8")
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(dicom)]) == 0
    capsys.readouterr()
    assert cli_main(["predict", "--model", "respiratory-cycles", "-", "--visits", str(csv)]) == 1
    assert "does not use cognitive scores" in capsys.readouterr().err


def _model():
    from stethoscan.inference.runtime import load_model

    return load_model(MODEL)


def test_the_gui_passes_the_series_body_part_as_the_cli_reads_it(tmp_path):
    """A series labelled KNEE is refused by the MCI model in the GUI as in the CLI."""
    import pydicom
    from ai_test_packages import mr_series, mr_volume
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    from stethoscan.imaging.model import InstanceRef
    from stethoscan.inference.registry import find_package

    dataset = pydicom.Dataset()
    dataset.file_meta = FileMetaDataset()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"  # MR image storage
    dataset.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    dataset.BodyPartExamined, dataset.Modality = "KNEE", "MR"
    dataset.save_as(tmp_path / "IM1.dcm", enforce_file_format=True)
    volume = mr_volume()
    series = mr_series(volume)
    series.instances = [InstanceRef(str(tmp_path / "IM1.dcm"), "1.2.3.4")]
    data = DataInFront(volume=volume, series=series)
    request = build_request(offer_for(find_package(MODEL), data), data, method=None)
    assert request.options["body_part"] == "KNEE"
    with pytest.raises(InputMismatchError, match="body part 'KNEE'"):
        predict(request.model_name, request.input_path, request.options)
    series.instances = [InstanceRef(str(tmp_path / "gone.dcm"), "1.2.3.5")]
    assert build_request(offer_for(find_package(MODEL), data), data).options["body_part"] == ""


def test_a_birth_date_gives_the_cli_the_age_the_gui_derives(brain, store, capsys, tmp_path):
    """Visits without an age: the GUI takes the age at the last visit from the patient's birth
    date; `--birth-date` does the same in the CLI, so both answers agree."""
    patient = store.upsert_patient("QA-B", "Test^Birth", "19470315", "F", 12)
    for day, mmse, moca, _ in VISITS:
        store.add_visit(patient.id, day, mmse=mmse, moca=moca)  # no age recorded
    csv = tmp_path / "visits.csv"
    csv.write_text("visit_date,mmse,moca\n" + "".join(f"{d},{m},{c}\n" for d, m, c, _ in VISITS),
                   encoding="utf-8")  # fmt: skip
    gui = gui_prediction(brain, patient, store.list_visits(patient.id))
    args = (brain[2], "--visits", csv, "--sex", "F", "--education-years", 12)
    cli = cli_prediction(capsys, *args, "--birth-date", "1947-03-15")
    assert np.allclose(gui.probabilities, cli["probabilities"], atol=1e-6, rtol=0)
    assert gui.details["history_inputs"] == cli["details"]["history_inputs"] == [
        "MMSE", "MoCA", "age", "sex", "education"]
    ageless = cli_prediction(capsys, *args)  # without it the age is unknown: another answer
    assert "age" not in ageless["details"]["history_inputs"]
    assert not np.allclose(ageless["probabilities"], cli["probabilities"], atol=1e-4)
    # what cannot be derived is said, not guessed
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(csv), "--birth-date", "15.03.1947"]) == 1
    assert "write it as YYYY-MM-DD" in capsys.readouterr().err
    undated = tmp_path / "undated.csv"
    undated.write_text("years_from_first,mmse\n0,27\n1,25\n", encoding="utf-8")
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(undated), "--birth-date", "1947-03-15"]) == 1
    assert "needs dated visits" in capsys.readouterr().err
    assert cli_main(["predict", "--model", MODEL, "-", "--visits", str(csv), "--birth-date", "2024-01-01"]) == 1
    assert "after the last visit" in capsys.readouterr().err


def test_the_birth_date_gives_the_age_at_the_last_visit_with_scores(capsys, tmp_path):
    """The model takes the age of the last visit with MMSE or MoCA: an age recorded at an earlier
    visit does not stop the birth date from giving it, and a later visit without scores (a CDR
    only) is not the one whose age counts."""
    from stethoscan.records.visit_dates import age_on

    csv = tmp_path / "visits.csv"
    csv.write_text("visit_date,mmse,moca,age_years\n2021-03-01,28,25,74.0\n2022-03-03,26,22,\n"
                   "2023-03-02,24,19,\n2026-01-10,,,\n", encoding="utf-8")  # fmt: skip
    expected = age_on("1947-03-15", "2023-03-02")
    by_birth = cli_prediction(capsys, "-", "--visits", csv, "--birth-date", "1947-03-15")
    by_age = cli_prediction(capsys, "-", "--visits", csv, "--age-years", expected)
    assert "age" in by_birth["details"]["history_inputs"]
    assert np.allclose(by_birth["probabilities"], by_age["probabilities"], atol=1e-9, rtol=0)
    later = cli_prediction(capsys, "-", "--visits", csv, "--age-years", expected + 3)
    assert not np.allclose(later["probabilities"], by_birth["probabilities"], atol=1e-6)  # age counts
