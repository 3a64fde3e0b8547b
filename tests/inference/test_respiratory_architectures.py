"""The respiratory architectures: shapes, sizes, Grad-CAM targets, manifest parameters."""

from __future__ import annotations

import pytest
import torch

from stethoscan.core.errors import ModelPackageError
from stethoscan.inference.architectures import build_architecture, gradcam_target

SHAPE = (48, 150)


@pytest.mark.parametrize("arch", ["resp_cnn", "resp_crnn"])
def test_builds_from_manifest_params_and_classifies_a_batch(arch):
    model = build_architecture(arch, {"n_classes": 4, "n_mels": SHAPE[0]}).eval()
    params = sum(p.numel() for p in model.parameters())
    assert 50_000 < params < 600_000  # a few hundred K: a package of about 1 MB
    with torch.no_grad():
        out = model(spectrogram=torch.randn(3, 1, *SHAPE), static=None)
    assert out.shape == (3, 4) and torch.isfinite(out).all()


@pytest.mark.parametrize("arch", ["resp_cnn", "resp_crnn"])
def test_gradcam_target_is_a_convolution_block_with_a_spatial_map(arch):
    model = build_architecture(arch, {"n_classes": 4, "n_mels": SHAPE[0]}).eval()
    layer = gradcam_target(arch, model)
    assert any(isinstance(m, torch.nn.Conv2d) for m in layer.modules())
    seen = {}

    def remember(module, inputs, output):
        seen["shape"] = output.shape

    handle = layer.register_forward_hook(remember)
    with torch.no_grad():
        model(spectrogram=torch.randn(1, 1, *SHAPE))
    handle.remove()
    assert len(seen["shape"]) == 4 and seen["shape"][2] >= 6 and seen["shape"][3] >= 18


def test_unknown_parameters_and_missing_input_are_refused():
    with pytest.raises(ModelPackageError, match="do not fit"):
        build_architecture("resp_cnn", {"n_classes": 4, "kernel": 5})
    with pytest.raises(ModelPackageError):
        build_architecture("resp_crnn", {"n_classes": 4, "widths": [8, 16]})
    model = build_architecture("resp_cnn", {"n_classes": 4})
    with pytest.raises(ValueError, match="spectrogram"):
        model(image=torch.randn(1, 1, *SHAPE))


def test_crnn_follows_time_a_cnn_with_other_widths_still_loads_its_own_weights():
    small = build_architecture("resp_cnn", {"n_classes": 4, "widths": [4, 8, 16, 32]})
    again = build_architecture("resp_cnn", {"n_classes": 4, "widths": [4, 8, 16, 32]})
    again.load_state_dict(small.state_dict(), strict=True)
    with pytest.raises(RuntimeError):
        build_architecture("resp_cnn", {"n_classes": 4}).load_state_dict(small.state_dict())
