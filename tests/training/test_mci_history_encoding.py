"""The visit history the MCI model sees: demographics count only beside cognitive scores."""

import pytest

from stethoscan.core.errors import ValidationError
from stethoscan.training.mci_dataset import encode_history

PATIENT = {"age_years": 71, "sex": "F", "education_years": 12}


def test_demographics_without_a_scored_visit_are_no_history():
    for visits in (None, [], [{"visit_date": "2025-01-02", "mmse": None, "moca": None}]):
        history = encode_history(visits, PATIENT)
        assert history.visits is None and history.static is None and history.used_visits == 0
    with pytest.raises(ValidationError, match="age"):
        encode_history([], {"age_years": 7})  # still checked


def test_a_scored_visit_brings_the_demographics_with_it():
    history = encode_history([{"years_from_first": 0.0, "mmse": 27, "moca": 24}], PATIENT)
    assert history.used_visits == 1 and history.static is not None and history.visits[0][0] == pytest.approx(0.9)
