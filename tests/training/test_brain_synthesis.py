"""Synthetic brains: the template, calibrated atrophy, ground truth, cohort figures."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.training import brain_synthesis as bs
from stethoscan.training import mci_cohort


@pytest.fixture(scope="module")
def template():
    return bs.load_template()


def test_bundled_template_is_small_and_has_every_region(template):
    assert bs.default_template_path().stat().st_size < 3_000_000
    assert (bs.default_template_path().parent / "ATTRIBUTION.md").is_file()
    for code in bs.REGION_NAMES:
        assert (template.labels == code).sum() > 10, bs.REGION_NAMES[code]
    hippocampus_ml = (template.labels == 1).sum() * template.spacing_mm**3 / 1000
    assert 2.0 < hippocampus_ml < 6.0  # a human hippocampus is ~3-4 mL
    # left structures lie on the patient's left = larger canonical x (LPS)
    left_x = np.nonzero(template.labels == 1)[2].mean()
    right_x = np.nonzero(template.labels == 2)[2].mean()
    assert left_x > right_x


def test_requested_atrophy_is_obtained_and_reproducible(template):
    changes = {"hippocampus_left": -0.3, "hippocampus_right": -0.3, "mtl_left": -0.3,
               "mtl_right": -0.3, "ventricles": 0.6}
    one = bs.synthesize_brain(template, changes, np.random.default_rng(5))
    two = bs.synthesize_brain(template, changes, np.random.default_rng(5))
    other = bs.synthesize_brain(template, changes, np.random.default_rng(6))
    assert np.array_equal(one.image, two.image)
    assert not np.array_equal(one.image, other.image)
    f = one.figures
    for side in ("left", "right"):
        assert -0.45 < f[f"measured_hippocampus_{side}"] < -0.18
    assert 0.4 < f["measured_ventricles"] < 0.8
    healthy = bs.synthesize_brain(template, {}, np.random.default_rng(5))
    assert abs(healthy.figures["measured_ventricles"]) < 0.12
    assert abs(healthy.figures["measured_hippocampus_left"]) < 0.15


def test_atrophy_mask_marks_the_changed_structures(template):
    changes = {"hippocampus_left": -0.3, "ventricles": 0.5}
    brain = bs.synthesize_brain(template, changes, np.random.default_rng(1))
    assert brain.atrophy_mask[brain.labels == 1].all()
    assert brain.atrophy_mask[brain.labels == 5].all()
    share = brain.atrophy_mask[brain.mask].mean()
    assert 0.02 < share < 0.3  # a small part of the brain
    assert brain.image.shape == template.t1.shape and brain.image[~brain.mask].max() == 0


def test_cohort_follows_the_published_ordering():
    rng = np.random.default_rng(0)
    subjects = [mci_cohort.draw_subject(label, rng) for label in (0, 1, 2) for _ in range(150)]
    by_class = [[s for s in subjects if s.label == k] for k in range(3)]
    first_mmse = [np.nanmean([s.visits[0]["mmse"] if s.visits[0]["mmse"] is not None else np.nan
                              for s in group]) for group in by_class]
    assert first_mmse[0] > first_mmse[1] > first_mmse[2]
    assert 28 < first_mmse[0] < 30 and 21 < first_mmse[2] < 25.5
    hippo = [np.mean([s.changes["hippocampus_left"] for s in group]) for group in by_class]
    assert hippo[0] > hippo[1] > hippo[2]
    vent = [np.mean([s.changes["ventricles"] for s in group]) for group in by_class]
    assert vent[0] < vent[1] < vent[2]
    for s in subjects:
        assert 1 <= len(s.visits) <= 6 and 55 <= s.age_years <= 90
        for visit in s.visits:
            assert visit["mmse"] is not None or visit["moca"] is not None
            assert all(0 <= visit[k] <= 30 for k in ("mmse", "moca") if visit[k] is not None)
