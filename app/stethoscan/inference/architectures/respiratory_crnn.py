"""Architecture ``resp_crnn``: a convolutional front-end and a bidirectional GRU over time.

Input ``spectrogram`` (batch, 1, mel bands, frames). Three convolution blocks (2x2 pooling after
the first two, frequency-only pooling after the third) turn the patch into a sequence of frame
vectors at 1/4 of the input frame rate; a bidirectional GRU reads the sequence, and attention
pooling over time (a learned weight per frame) feeds a linear layer. Wheezes are continuous in
time, which the recurrent layer can follow. Grad-CAM explains the last convolution block.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from stethoscan.inference.architectures.respiratory_cnn import conv_block

DEFAULT_WIDTHS = (8, 16, 32)


class RespiratoryCRNN(nn.Module):
    def __init__(self, n_mels: int = 48, n_classes: int = 4,
                 widths: tuple[int, ...] = DEFAULT_WIDTHS, hidden: int = 64,
                 dropout: float = 0.3, in_channels: int = 1) -> None:  # fmt: skip
        super().__init__()
        if len(widths) != 3 or n_classes < 2 or n_mels < 8:
            raise ValueError("resp_crnn needs three conv widths, two classes and >= 8 mel bands")
        self.block1 = conv_block(in_channels, widths[0], 1)
        self.block2 = conv_block(widths[0], widths[1], 1)
        self.block3 = conv_block(widths[1], widths[2], 2)
        self.pool = nn.MaxPool2d(2)
        self.freq_pool = nn.MaxPool2d((2, 1))
        freq_bins = n_mels // 8
        self.gru = nn.GRU(widths[2] * freq_bins, hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * hidden, 1)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden, n_classes)

    @property
    def last_block(self) -> nn.Module:
        return self.block3

    def forward(self, spectrogram: torch.Tensor | None = None, **_: Any) -> torch.Tensor:
        if spectrogram is None:
            raise ValueError("resp_crnn needs the 'spectrogram' input")
        x = self.pool(self.block1(spectrogram))
        x = self.pool(self.block2(x))
        x = self.freq_pool(self.block3(x))  # (batch, channels, bins, frames)
        seq = x.flatten(1, 2).transpose(1, 2)  # (batch, frames, channels * bins)
        out, _ = self.gru(seq)
        weights = torch.softmax(self.attention(out), dim=1)
        pooled = (weights * out).sum(dim=1)
        return self.classifier(self.dropout(pooled))


def build(params: dict[str, Any]) -> RespiratoryCRNN:
    """From manifest params: n_mels, n_classes, widths, hidden, dropout, in_channels."""
    known = {"n_mels", "n_classes", "widths", "hidden", "dropout", "in_channels", "frames"}
    unknown = set(params) - known
    if unknown:
        raise ValueError(f"unknown parameters {sorted(unknown)}")
    kwargs = {k: v for k, v in params.items() if k != "frames"}
    if "widths" in kwargs:
        kwargs["widths"] = tuple(int(w) for w in kwargs["widths"])
    return RespiratoryCRNN(**kwargs)


def gradcam_target(model: RespiratoryCRNN) -> nn.Module:
    return model.last_block
