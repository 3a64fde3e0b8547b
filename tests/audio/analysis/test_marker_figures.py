"""Figures from the clinician's saved markers (rate, I/E ratio, coughs)."""

import pytest

from stethoscan.audio.analysis.marker_figures import figures_from_markers


def phases(starts, insp_s, exp_s):
    out = []
    for t in starts:
        out += [(t, t + insp_s, "inspiration"), (t + insp_s, t + insp_s + exp_s, "expiration")]
    return out


def test_rate_and_ie_ratio_follow_the_marked_phases():
    spans = phases([0.9, 2.8, 4.7, 6.7, 8.8], 0.8, 1.1)  # cycles 1.9, 1.9, 2.0, 2.1, 1.9 s
    figures = figures_from_markers(spans)
    assert figures.cycles == 5  # the last: its inspiration and the expiration after it
    assert figures.rate_bpm == pytest.approx(60 * 5 / (8.8 + 1.9 - 0.9))
    assert figures.ie_ratio == pytest.approx(0.8 / 1.1)
    assert figures.coughs == 0 and not figures.empty


def test_a_gap_longer_than_ten_seconds_is_not_a_cycle_and_order_does_not_matter():
    spans = phases([20.0, 0.0, 4.0], 1.0, 2.0) + [(5.0, 5.3, "crackle")]
    figures = figures_from_markers(reversed(spans))
    assert figures.cycles == 2 and figures.rate_bpm == pytest.approx(60 * 2 / 7)  # 0-4 s, 20-23 s
    apart = figures_from_markers([(0.0, 1.0, "inspiration"), (1.5, 3.0, "expiration")])
    assert apart.cycles == 0 and apart.ie_ratio == pytest.approx(1 / 1.5)  # a pause between: no cycle


def test_coughs_and_incomplete_markings():
    figures = figures_from_markers([(1.0, 1.4, "cough"), (3.0, 3.5, "cough", "clinician"),
                                    (5.0, 6.0, "inspiration")])
    assert figures.coughs == 2 and figures.rate_bpm is None and figures.ie_ratio is None
    assert figures_from_markers([(0.0, 1.0, "artefact")]).empty
