from __future__ import annotations

import pytest
import torch

from pscgan.config.schema import EncoderKind
from pscgan.models.encoders import build_encoder

from .conftest import cine_for


@pytest.mark.parametrize("kind", list(EncoderKind))
def test_every_encoder_has_the_same_output_shapes(tiny, kind):
    cfg = tiny.model.model_copy(update={"encoder": kind})
    out = build_encoder(cfg)(cine_for(tiny))
    w, t, s = cfg.widths, cfg.encoded_frames, cfg.image_size
    assert [tuple(x.shape) for x in out.skips] == [(2, w[i], t, s >> (i + 1), s >> (i + 1)) for i in range(3)]
    assert tuple(out.bottleneck.shape) == (2, w[3], t, s // 16, s // 16)


@pytest.mark.parametrize("kind", [EncoderKind.CONVLSTM, EncoderKind.LSTM_CONV2D, EncoderKind.GRU_CONV2D,
                                  EncoderKind.RNN_CONV2D, EncoderKind.CONV3D_LSTM])
def test_recurrent_baselines_are_causal_in_time(tiny, kind):
    """Recurrences only look back, so frame t of the output ignores later frames (3D convs do not)."""
    cfg = tiny.model.model_copy(update={"encoder": kind})
    enc = build_encoder(cfg)
    x = cine_for(tiny, batch=1)
    changed = x.clone()
    changed[:, :, 2:] = 0.5
    ref, out = enc(x), enc(changed)
    if kind is EncoderKind.CONV3D_LSTM:  # 3D convs are not causal, only the LSTM head is
        assert out.bottleneck.shape == ref.bottleneck.shape
        return
    for a, b in zip([*ref.skips, ref.bottleneck], [*out.skips, out.bottleneck], strict=True):
        torch.testing.assert_close(b[:, :, :2], a[:, :, :2], atol=1e-6, rtol=0)


def test_the_frame_stack_encoder_folds_time_into_its_first_convolution(tiny):
    """Its features keep one frame, and every frame reaches them (no frame is dropped by the fold)."""
    cfg = tiny.model.model_copy(update={"encoder": EncoderKind.FRAME_STACK})
    assert cfg.encoded_frames == 1 and tiny.model.encoded_frames == cfg.frames
    enc = build_encoder(cfg)
    x = cine_for(tiny, batch=1)
    for frame in (0, cfg.frames - 1):
        changed = x.clone()
        changed[:, :, frame] += 0.5
        assert not torch.allclose(enc(changed).skips[0], enc(x).skips[0])
