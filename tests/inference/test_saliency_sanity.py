"""Saliency sanity checks on models trained here in seconds (phantoms with known evidence).

For every method on 2D phantoms and spectrograms, and Grad-CAM and Integrated Gradients on 3D
phantoms: the pointing game hits the lesion/event in >= 80% of cases, the maps of models with
re-initialized weights share few ranks with the trained model's (Spearman < 0.5, Adebayo et al.
2018), and deleting the most salient samples first lowers the target probability at least twice
as fast (deletion AUC <= 0.5 x the random order's). A method that fails is left out of
``validated_methods`` and not offered. A map that ignores the weights (an edge detector) fails
even where it points at the lesion; a trained model passes even where random networks also point
at a conspicuous lesion (the case the mask-share chance level got wrong).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from saliency_phantoms import positive_samples, train_model

from stethoscan.inference.saliency import sanity
from stethoscan.inference.saliency.compute import saliency_maps

pytestmark = pytest.mark.slow

OPTIONS = {
    "2d": {"ig": {"n_steps": 16, "internal_batch_size": 16},
           "occlusion": {"window": (5, 5), "stride": (2, 2), "perturbations_per_eval": 64}},
    "spec": {"ig": {"n_steps": 16, "internal_batch_size": 16},
             "occlusion": {"window": (5, 5), "stride": (2, 2), "perturbations_per_eval": 64}},
    "3d": {"ig": {"n_steps": 16, "internal_batch_size": 16}},
}  # fmt: skip
METHODS = {"2d": ("gradcam", "ig", "occlusion"), "spec": ("gradcam", "ig", "occlusion"),
           "3d": ("gradcam", "ig")}  # fmt: skip
TRAINING = {"2d": {"epochs": 12}, "spec": {}, "3d": {"n": 192, "widths": (8, 16), "batch_size": 16}}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread: deterministic, and much faster than two on a shared, busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=["2d", "spec", "3d"])
def checked(request, one_thread):
    kind = request.param
    model, accuracy = train_model(kind, **TRAINING[kind])
    assert accuracy >= 0.9, f"the {kind} phantom model did not learn (accuracy {accuracy:.2f})"
    samples = positive_samples(kind, 12, seed=7)
    results = sanity.run_sanity_checks(
        model, lambda m: m.last_block, samples, METHODS[kind], OPTIONS[kind]
    )
    return kind, model, samples, results


def test_pointing_game_hits_the_evidence(checked):
    kind, _, _, results = checked
    for method, result in results.items():
        assert result.pointing_game >= 0.8, (kind, method, result.to_dict())


def test_randomized_models_maps_share_few_ranks_with_the_trained_models(checked):
    kind, _, _, results = checked
    for method, result in results.items():
        limit = sanity.MAX_RANDOMIZED_RANK_CORRELATION
        assert result.randomized_rank_correlation < limit, (kind, method, result.to_dict())
        # these phantoms' lesions are no more conspicuous than their distractor bars, so random
        # networks' peaks land on them near chance (reported beside the rank correlation)
        assert result.randomized_pointing_game <= result.chance + 0.25, (kind, result.to_dict())
        assert result.randomized_pointing_game <= result.pointing_game - 0.5


def test_deleting_salient_samples_first_is_twice_as_fast(checked):
    kind, _, _, results = checked
    for method, result in results.items():
        assert result.deletion_auc <= 0.5 * result.random_deletion_auc, (
            kind,
            method,
            result.to_dict(),
        )


def test_passing_methods_are_validated(checked):
    kind, _, _, results = checked
    section = sanity.saliency_manifest_section(results)
    assert section["validated_methods"] == list(METHODS[kind])
    assert set(section["checks"]) == set(METHODS[kind])


def test_grad_cam_matches_captum_layer_grad_cam(checked):
    from captum.attr import LayerAttribution, LayerGradCam

    kind, model, samples, _ = checked
    name = next(iter(samples[0].inputs))
    x = torch.from_numpy(samples[0].inputs[name])
    ours = saliency_maps(model, model.last_block, {name: x}, "gradcam", 1)[0].numpy()
    layer_cam = LayerGradCam(lambda t: model(**{name: t}), model.last_block)
    theirs = layer_cam.attribute(x, target=1, relu_attributions=True)
    mode = "trilinear" if x.ndim == 5 else "bilinear"
    theirs = LayerAttribution.interpolate(theirs, tuple(x.shape[2:]), mode)[0, 0].detach().numpy()
    np.testing.assert_allclose(ours, theirs / theirs.max(), atol=1e-4)


def test_untrained_model_fails_and_is_not_offered(one_thread):
    from saliency_phantoms import ARCH

    from stethoscan.inference.architectures import build_architecture

    torch.manual_seed(3)
    model = build_architecture(ARCH["2d"], {"n_classes": 2, "widths": [16, 32]})
    samples = positive_samples("2d", 8, seed=11)
    results = sanity.run_sanity_checks(model, lambda m: m.last_block, samples, ["gradcam"])
    assert not results["gradcam"].passed and results["gradcam"].failures
    assert sanity.saliency_manifest_section(results)["validated_methods"] == []


# --- conspicuous lesions: the randomization check must not be a pointing game ---------------
def _conspicuous(samples):
    """The same samples with the lesion twice as bright as the distractor bars."""
    out = []
    for sample in samples:
        inputs = {k: v.copy() for k, v in sample.inputs.items()}
        next(iter(inputs.values()))[0, 0][sample.mask] += 1.0
        out.append(sanity.SanitySample(inputs, sample.mask, sample.target))
    return out


def _edge_map(module, sample):
    """Gradient magnitude of the input (a Sobel edge detector): ignores the model entirely."""
    from scipy import ndimage

    x = next(iter(sample.inputs.values()))[0, 0].astype(np.float64)
    return np.hypot(ndimage.sobel(x, 0), ndimage.sobel(x, 1))


def test_map_ignoring_the_weights_fails_even_when_it_points_at_the_lesion(one_thread):
    from saliency_phantoms import ARCH

    from stethoscan.inference.architectures import build_architecture

    torch.manual_seed(5)
    model = build_architecture(ARCH["2d"], {"n_classes": 2, "widths": [8, 16]})
    samples = _conspicuous(positive_samples("2d", 10, seed=13))
    result = sanity.check_method(model, lambda m: m.last_block, samples, "gradcam",
                                 map_of=_edge_map)
    assert result.pointing_game >= 0.8, result.to_dict()  # it would pass the pointing game
    assert result.randomized_pointing_game == result.pointing_game
    assert result.randomized_rank_correlation > 0.99
    assert not result.passed
    assert any("rank correlation" in f for f in result.failures), result.failures


def test_trained_model_passes_where_random_networks_also_find_the_lesion(one_thread):
    """Random CNNs respond to the brightest structure; the old rule (randomized hit rate at most
    chance + 0.25, chance = the mask's share of the grid) would refuse this trained model."""
    model, accuracy = train_model("2d", epochs=12, seed=2)
    assert accuracy >= 0.9
    samples = _conspicuous(positive_samples("2d", 12, seed=17))
    result = sanity.check_method(model, lambda m: m.last_block, samples, "gradcam")
    assert result.randomized_pointing_game > result.chance + 0.25, result.to_dict()
    assert result.pointing_game >= 0.8, result.to_dict()
    assert result.randomized_rank_correlation < sanity.MAX_RANDOMIZED_RANK_CORRELATION
    assert result.passed, result.failures


def test_rank_correlation_of_maps():
    rng = np.random.default_rng(0)
    a = rng.random((8, 8))
    assert sanity.rank_correlation(a, 3 * a + 1) == pytest.approx(1.0)
    assert sanity.rank_correlation(a, -a) == pytest.approx(1.0)  # absolute values are compared
    assert sanity.rank_correlation(a, np.zeros_like(a)) == 0.0  # a constant map has no ranking
    region = np.zeros((8, 8), dtype=bool)
    region[:4] = True
    b = a.copy()
    b[~region] = rng.random(int((~region).sum()))
    assert sanity.rank_correlation(a, b, region) == pytest.approx(1.0)
    assert sanity.rank_correlation(a, b) < 0.9
