"""History encoding and the folder data set reader (labels.csv + NIfTI volumes)."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.core.errors import TrainingDataError, ValidationError
from stethoscan.training import mci_dataset


def test_history_encoding_orders_visits_and_flags_missing_scores():
    visits = [
        {"visit_date": "2022-03-01", "mmse": 26, "moca": None},
        {"visit_date": "2020-03-01", "mmse": 28, "moca": 24},
        {"visit_date": "2021-03-01", "mmse": None, "moca": None},  # nothing measured: dropped
    ]
    history = mci_dataset.encode_history(visits, {"age_years": 80, "sex": "F", "education_years": 11})
    assert history.used_visits == 2
    assert history.visit_mask.tolist() == [True, True, False, False, False, False]
    first, last = history.visits[0], history.visits[1]
    assert first[0] == pytest.approx(28 / 30) and first[2] == pytest.approx(24 / 30)
    assert last[1] == 1 and last[3] == 0  # MoCA missing at the second visit
    assert last[4] == pytest.approx(2.0 / 5, abs=0.01)  # two years after the first visit
    assert history.static.tolist() == pytest.approx([7 / 8, 1, 0, 1, -1, 1])


def test_history_keeps_the_last_six_visits_and_validates_ranges():
    visits = [{"years_from_first": t, "mmse": 29 - t} for t in range(9)]
    history = mci_dataset.encode_history(visits)
    assert history.used_visits == 6 and history.visits[0, 0] == pytest.approx(26 / 30)
    assert history.static is None
    with pytest.raises(ValidationError, match="outside 0-30"):
        mci_dataset.encode_history([{"mmse": 31}])
    with pytest.raises(ValidationError, match="not a number"):
        mci_dataset.encode_history([{"moca": "abc"}])
    assert mci_dataset.encode_history([]).visits is None


def _write_nifti(path, template, flip: bool = False) -> None:
    import nibabel as nib

    data = template.t1.transpose(2, 1, 0)  # (x, y, z) = (i, j, k)
    # canonical x -> patient left, y -> posterior: in RAS that is -x, -y
    affine = np.diag([-2.0, -2.0, 2.0, 1.0])
    if flip:  # the same brain stored with the i axis reversed: the reader must undo it
        data = data[::-1]
        affine = np.diag([2.0, -2.0, 2.0, 1.0])
        affine[0, 3] = -2.0 * (data.shape[0] - 1)
    nib.save(nib.Nifti1Image(data.astype(np.float32), affine), str(path))


def test_folder_data_set_reads_csv_and_nifti(tmp_path):
    from stethoscan.training.brain_synthesis import load_template

    template = load_template()
    _write_nifti(tmp_path / "a.nii.gz", template)
    _write_nifti(tmp_path / "b.nii", template, flip=True)
    (tmp_path / "broken.nii").write_bytes(b"not a nifti")
    (tmp_path / "labels.csv").write_text(
        "subject_id,label,image,age_years,sex,education_years,visit_years,mmse,moca\n"
        "s1,CN,a.nii.gz,70,F,16,0,29,27\n"
        "s1,CN,,71,F,16,1,29,\n"
        "s2,AD,b.nii,78,M,10,0,22,15\n"
        "s3,MCI,broken.nii,74,F,12,0,27,22\n"
        "s4,unknown-label,,70,F,12,0,27,22\n",
        encoding="utf-8",
    )
    samples, skipped = mci_dataset.folder_dataset(tmp_path)
    by_id = {s.subject_id: s for s in samples}
    assert sorted(by_id) == ["s1", "s2", "s3"]
    assert [by_id[k].label for k in ("s1", "s2", "s3")] == [0, 2, 1]
    assert by_id["s1"].history.used_visits == 2
    assert by_id["s3"].image is None  # unreadable image: history only, and said so
    assert any("s3" in reason and "image not used" in reason for reason in skipped)
    assert any("s4" in reason for reason in skipped)
    a, b = by_id["s1"].image.astype(np.float32), by_id["s2"].image.astype(np.float32)
    assert a.shape == b.shape == template.t1.shape
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95  # the flip was undone


def test_missing_csv_is_a_clear_error(tmp_path):
    with pytest.raises(TrainingDataError, match="labels.csv"):
        mci_dataset.folder_dataset(tmp_path)


def test_a_spreadsheet_csv_with_semicolons_and_decimal_commas_is_read(tmp_path):
    """European spreadsheets write ';' between columns, ',' in numbers, capitalised names and a
    byte-order mark: the same table as with commas."""
    plain = tmp_path / "plain.csv"
    plain.write_text("subject_id,label,age_years,sex,education_years,visit_years,mmse,moca\n"
                     "s1,MCI,72.5,F,12,0,26,21\ns1,MCI,73.5,F,12,1,25,20\n", encoding="utf-8")  # fmt: skip
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("Subject_ID;Label;Age_Years;Sex;Education_Years;Visit_Years;MMSE;MoCA\n"
                     "s1;MCI;72,5;F;12;0;26;21\ns1;MCI;73,5;F;12;1;25;20\n", encoding="utf-8-sig")  # fmt: skip
    assert mci_dataset.read_label_table(sheet) == mci_dataset.read_label_table(plain)
    assert mci_dataset.read_label_table(sheet)["s1"]["visits"][1]["age_years"] == "73.5"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("patient,label\np1,CN\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"subject_id column \(it has: patient, label\)"):
        mci_dataset.read_label_table(wrong)


def test_a_visit_date_that_is_not_a_date_is_refused_per_subject(tmp_path):
    """03/01/2020 (month or day first?) is not guessed: that subject is left out with the reason,
    the others are read; YYYYMMDD (DICOM) is a date."""
    (tmp_path / "labels.csv").write_text(
        "subject_id,label,visit_date,mmse\n"
        "s1,CN,03/01/2020,29\ns1,CN,03/01/2021,28\n"
        "s2,MCI,20200301,26\ns2,MCI,2021-03-01,24\n", encoding="utf-8")
    samples, skipped = mci_dataset.folder_dataset(tmp_path)
    assert [s.subject_id for s in samples] == ["s2"] and samples[0].history.used_visits == 2
    assert any("s1" in r and "'03/01/2020' is not a date: write it as YYYY-MM-DD" in r for r in skipped)
