"""Label CSVs as spreadsheet programs save them: a UTF-8 byte-order mark (Excel's "CSV UTF-8"),
semicolons and decimal commas (European locales), capitalised column names, and a CSV whose
columns are misnamed, which the error names."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from stethoscan.core.errors import TrainingDataError
from stethoscan.training import icbhi_dataset as ds

ROWS = [("a.wav", "0.5", "3.0", "normal"), ("a.wav", "3.0", "5.25", "wheeze")]


@pytest.fixture
def folder(tmp_path):
    sf.write(tmp_path / "a.wav", np.zeros(8 * 4000, np.float32) + 0.01, 4000)
    return tmp_path


def _cycles(folder):
    [rec] = ds.read_recordings(folder)
    return [(c.start_s, c.end_s, c.label) for c in rec.cycles], rec.skipped


def test_excel_byte_order_mark_and_capitalised_columns(folder):
    text = "File,Start_s,End_s,Label\n" + "".join(",".join(r) + "\n" for r in ROWS)
    (folder / "labels.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert _cycles(folder) == ([(0.5, 3.0, "normal"), (3.0, 5.25, "wheeze")], [])


def test_semicolons_and_decimal_commas(folder):
    text = "file;start_s;end_s;label\n" + "".join(
        ";".join(r).replace(".", ",").replace(",wav", ".wav") + "\n" for r in ROWS)
    (folder / "labels.csv").write_text(text, encoding="utf-8")
    assert _cycles(folder) == ([(0.5, 3.0, "normal"), (3.0, 5.25, "wheeze")], [])


def test_a_label_csv_under_another_name_is_found_with_a_mark(folder):
    text = "\ufefffile,start_s,end_s,label\n" + "".join(",".join(r) + "\n" for r in ROWS)
    (folder / "cycles from ward 3.csv").write_text(text, encoding="utf-8")
    assert ds.find_label_csv(folder) == folder / "cycles from ward 3.csv"
    assert len(_cycles(folder)[0]) == 2


def test_a_misnamed_column_is_named_in_the_error(folder):
    (folder / "my labels.csv").write_text("file,start,end_s,label\na.wav,0.5,3.0,normal\n")
    with pytest.raises(TrainingDataError, match=r"my labels.csv has the columns file, start, end_s, "
                                                r"label but lacks start_s\."):
        ds.read_recordings(folder)


def test_a_missing_data_folder_is_called_missing(tmp_path):
    with pytest.raises(TrainingDataError, match=r"does not exist: check the path"):
        ds.read_recordings(tmp_path / "ICBHI_final_databse")
