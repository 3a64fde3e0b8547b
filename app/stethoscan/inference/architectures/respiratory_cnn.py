"""Architecture ``resp_cnn``: a compact CNN that classifies one breathing cycle's log-mel patch.

Input ``spectrogram`` (batch, 1, mel bands, frames). Four blocks of 3x3 convolution, batch norm
and ReLU (two convolutions in the last two blocks) with 2x2 max pooling between blocks, then
global average and max pooling over time-frequency (max pooling keeps short events such as
crackles), dropout and a linear layer. About 0.23 M parameters with the default widths. Grad-CAM
explains the third block (1/4 of the input resolution: 80 ms x 4 mel bands): the last block's
1/8 grid is too coarse to point at crackles of 20 ms (its pointing game was about half as good).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

DEFAULT_WIDTHS = (8, 16, 48, 128)  # narrow where the maps are large: cheap on a CPU


def conv_block(in_channels: int, out_channels: int, convolutions: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(convolutions):
        layers += [
            nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3, padding=1,
                      bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=False),
        ]  # fmt: skip
    return nn.Sequential(*layers)


class RespiratoryCNN(nn.Module):
    def __init__(self, n_classes: int = 4, widths: tuple[int, ...] = DEFAULT_WIDTHS,
                 dropout: float = 0.3, in_channels: int = 1) -> None:  # fmt: skip
        super().__init__()
        if len(widths) < 2 or n_classes < 2:
            raise ValueError("resp_cnn needs at least two blocks and two classes")
        blocks: list[nn.Module] = []
        channels = in_channels
        for index, width in enumerate(widths):
            if index > 0:
                blocks.append(nn.MaxPool2d(2))
            blocks.append(conv_block(channels, width, 2 if index >= len(widths) - 2 else 1))
            channels = width
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * channels, n_classes)

    @property
    def last_block(self) -> nn.Module:
        return self.features[-1]

    @property
    def gradcam_block(self) -> nn.Module:
        """The block before the last pooling (1/4 of the input resolution)."""
        return self.features[-3]

    def forward(self, spectrogram: torch.Tensor | None = None, **_: Any) -> torch.Tensor:
        if spectrogram is None:
            raise ValueError("resp_cnn needs the 'spectrogram' input")
        x = self.features(spectrogram)
        pooled = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        return self.classifier(self.dropout(pooled))


def build(params: dict[str, Any]) -> RespiratoryCNN:
    """From manifest params: n_classes, widths, dropout, in_channels (n_mels/frames ignored)."""
    known = {"n_classes", "widths", "dropout", "in_channels", "n_mels", "frames"}
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    kwargs = {k: v for k, v in params.items() if k not in ("n_mels", "frames")}
    if "widths" in kwargs:
        kwargs["widths"] = tuple(int(w) for w in kwargs["widths"])
    return RespiratoryCNN(**kwargs)


def gradcam_target(model: RespiratoryCNN) -> nn.Module:
    return model.gradcam_block
