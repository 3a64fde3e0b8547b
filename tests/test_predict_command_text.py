"""What `stethoscan predict` prints: probabilities never shown as certain."""

from __future__ import annotations

from stethoscan.commands.predict import summary_text
from stethoscan.inference.prediction import Prediction


def test_probabilities_are_never_printed_as_certain():
    p = Prediction("m", "1", ["normal", "crackle", "wheeze"], ["", "", ""], [0.9996, 0.0003, 0.0001],
                   "normal", 0.9996)  # fmt: skip
    text = summary_text(p)
    assert ">99.9%" in text and "<0.1%" in text and "Top: normal (>99.9%)" in text
    assert "100.0%" not in text and " 0.0%" not in text and "(100%)" not in text
    q = Prediction("m", "1", ["a", "b"], ["", ""], [0.994, 0.006], "a", 0.994)
    assert " 99.4%" in summary_text(q) and "  0.6%" in summary_text(q)


def test_age_and_birth_date_are_not_both_taken(capsys):
    """One of them says the age; both would leave one silently ignored."""
    import pytest

    from stethoscan.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["predict", "--model", "mci-fusion", "-", "--age-years", "70", "--birth-date", "1950-01-01"])
    assert exit_info.value.code == 2
    assert "not allowed with argument --age-years" in capsys.readouterr().err
