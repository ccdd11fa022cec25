"""Cine encoders: the SCLN and the baselines of tables 3 and 4, all with one interface.

Every encoder maps a cine (B, 1, T, H, W) to :class:`~pscgan.models.interfaces.EncoderOutput` with
four stages of the configured widths, each halving H and W and keeping T, so the generator around it
(skips, bottleneck, decoder) is identical for every variant. The paper does not describe the
baselines' layers; these are the plainest versions of each idea at the SCLN's widths:

* ``conv3d``: two 3x3x3 convolutions per stage (the first with in-plane stride 2).
* ``convlstm``: a strided per-frame convolution, then a convolutional LSTM along time.
* ``conv3d_lstm``: the ``conv3d`` stages, then an LSTM along time on each frame's bottleneck features.
* ``conv2d_conv1d``: a strided per-frame 3x3 convolution, then a (non-dilated, centred) convolution
  along time at each pixel.
* ``lstm_conv2d`` / ``gru_conv2d`` / ``rnn_conv2d``: a strided per-frame 3x3 convolution, then an
  LSTM / GRU / Elman RNN along time at each pixel, with a residual connection.
* ``frame_stack`` (not in the paper): the frames stacked as the channels of a 2D residual encoder,
  as the stacked-frames U-Net baseline reads them. Time is folded into the first convolution, so
  every stage has one "frame" (T = 1) and a step costs a fraction of a per-frame encoder's.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.config.schema import EncoderKind
    >>> cfg = get_preset("tiny").model.model_copy(update={"encoder": EncoderKind.CONVLSTM})
    >>> out = build_encoder(cfg)(torch.randn(1, 1, cfg.frames, cfg.image_size, cfg.image_size))
    >>> tuple(out.bottleneck.shape)
    (1, 8, 4, 1, 1)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pscgan.config.schema import EncoderKind, ModelConfig
from pscgan.models.interfaces import EncoderOutput
from pscgan.models.layers import FrameConv, SequenceLayerNorm, TimeConv, image_norm, volume_to_frames
from pscgan.models.scln import SCLNEncoder


class _Conv3dStage(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, slope: float) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(in_ch, out_ch, 3, stride=(1, 2, 2), padding=1), SequenceLayerNorm(out_ch),
            nn.LeakyReLU(slope),
            nn.Conv3d(out_ch, out_ch, 3, padding=1), SequenceLayerNorm(out_ch), nn.LeakyReLU(slope))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class _FrameStackStage(nn.Module):
    """Conv 3x3 stride 2 -> LN -> LeakyReLU -> residual (conv 3x3 -> LN -> LeakyReLU) on (B, C, 1, H, W)."""

    def __init__(self, in_ch: int, out_ch: int, slope: float, norm: str = "layer") -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(in_ch, out_ch, 3, stride=2, padding=1), image_norm(norm, out_ch),
                                  nn.LeakyReLU(slope))
        self.refine = nn.Sequential(nn.Conv2d(out_ch, out_ch, 3, padding=1), image_norm(norm, out_ch),
                                    nn.LeakyReLU(slope))

    def forward(self, x: Tensor) -> Tensor:
        y = self.down(x[:, :, 0])
        return (y + self.refine(y)).unsqueeze(2)


class ConvLSTM(nn.Module):
    """Convolutional LSTM (Shi et al., 2015) along time: (B, C, T, H, W) -> hidden states (B, C, T, H, W)."""

    def __init__(self, channels: int, kernel: int = 3) -> None:
        super().__init__()
        self.input_conv = nn.Conv2d(channels, 4 * channels, kernel, padding=kernel // 2)
        self.hidden_conv = nn.Conv2d(channels, 4 * channels, kernel, padding=kernel // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        gates_in = self.input_conv(volume_to_frames(x)).view(b, t, 4 * c, h, w)  # all frames at once
        hidden = x.new_zeros(b, c, h, w)
        cell = x.new_zeros(b, c, h, w)
        states = []
        for i in range(t):
            gi, gf, gg, go = (gates_in[:, i] + self.hidden_conv(hidden)).chunk(4, dim=1)
            cell = torch.sigmoid(gf) * cell + torch.sigmoid(gi) * torch.tanh(gg)
            hidden = torch.sigmoid(go) * torch.tanh(cell)
            states.append(hidden)
        return torch.stack(states, dim=2)


class PixelRecurrence(nn.Module):
    """An LSTM / GRU / RNN along time at every pixel, with a residual connection."""

    CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}

    def __init__(self, channels: int, cell: str) -> None:
        super().__init__()
        self.rnn = self.CELLS[cell](channels, channels, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        seq = x.permute(0, 3, 4, 2, 1).reshape(b * h * w, t, c)
        out, _ = self.rnn(seq)
        return x + out.view(b, h, w, t, c).permute(0, 4, 3, 1, 2)


class StagedEncoder(nn.Module):
    """Four stages run in sequence; the outputs of stages 1-3 are the skips, stage 4 the bottleneck.

    Args:
        stages: four modules mapping (B, C_in, T, H, W) -> (B, C_out, T, H/2, W/2).
        bottleneck_head: optional module applied to the last stage's output (e.g. an LSTM).
        time_as_channels: give the first stage the frames as channels, (B, T, 1, H, W).
    """

    def __init__(self, stages: list[nn.Module], bottleneck_head: nn.Module | None = None, *,
                 time_as_channels: bool = False) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.bottleneck_head = bottleneck_head
        self.time_as_channels = time_as_channels

    def forward(self, cine: Tensor, extra: Tensor | None = None) -> EncoderOutput:
        """Encode ``cine``; ``extra`` (B, C, H, W) joins the frames as input channels (frame stacks only)."""
        outs = []
        x = cine.transpose(1, 2) if self.time_as_channels else cine
        if extra is not None:
            if not self.time_as_channels:
                raise ValueError("only an encoder that reads the frames as channels takes extra channels")
            x = torch.cat([x, extra[:, :, None]], dim=1)
        for stage in self.stages:
            x = stage(x)
            outs.append(x)
        last = outs[3] if self.bottleneck_head is None else self.bottleneck_head(outs[3])
        return EncoderOutput(skips=outs[:3], bottleneck=last)


class FrameFeatureLSTM(nn.Module):
    """An LSTM along time on each frame's flattened features: (B, C, T, h, w) -> same shape."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, features, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        out, _ = self.lstm(x.transpose(1, 2).reshape(b, t, c * h * w))
        return out.view(b, t, c, h, w).transpose(1, 2)


def build_encoder(config: ModelConfig, extra_channels: int = 0) -> nn.Module:
    """The cine encoder selected by ``config.encoder``; a frame stack reads ``extra_channels`` more
    input channels (the condition, with ``condition_injection=encoder``)."""
    kind = config.encoder
    if extra_channels and kind is not EncoderKind.FRAME_STACK:
        raise ValueError(f"the {kind.value} encoder takes no extra input channels")
    if kind is EncoderKind.SCLN:
        return SCLNEncoder(config)
    slope = config.leaky_slope
    if kind is EncoderKind.FRAME_STACK:
        # (B, 1, T, H, W) -> (B, T, 1, H, W): the frames become the first stage's input channels
        ins = (config.frames + extra_channels, *config.widths[:3])
        stacked: list[nn.Module] = [_FrameStackStage(a, b, slope, config.generator_norm.value)
                                    for a, b in zip(ins, config.widths, strict=True)]
        return StagedEncoder(stacked, time_as_channels=True)
    chans = (1, *config.widths)
    pairs = [(chans[i], chans[i + 1]) for i in range(4)]
    if kind in (EncoderKind.CONV3D, EncoderKind.CONV3D_LSTM):
        stages: list[nn.Module] = [_Conv3dStage(a, b, slope) for a, b in pairs]
        head = None
        if kind is EncoderKind.CONV3D_LSTM:
            head = FrameFeatureLSTM(config.widths[3] * config.bottleneck_size ** 2)
        return StagedEncoder(stages, head)
    if kind is EncoderKind.CONVLSTM:
        return StagedEncoder([nn.Sequential(FrameConv(a, b, stride=2, slope=slope), ConvLSTM(b))
                              for a, b in pairs])
    if kind is EncoderKind.CONV2D_CONV1D:
        return StagedEncoder([nn.Sequential(FrameConv(a, b, stride=2, slope=slope),
                                            TimeConv(b, b, kernel=3, causal=False, slope=slope))
                              for a, b in pairs])
    cells = {EncoderKind.LSTM_CONV2D: "lstm", EncoderKind.GRU_CONV2D: "gru", EncoderKind.RNN_CONV2D: "rnn"}
    cell = cells[kind]
    return StagedEncoder([nn.Sequential(FrameConv(a, b, stride=2, slope=slope), PixelRecurrence(b, cell))
                          for a, b in pairs])
