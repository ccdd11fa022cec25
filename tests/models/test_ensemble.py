"""Ensembles of cascades: the mean of their probabilities and LGEs; members that would be fed otherwise
are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from pscgan.config.presets import get_preset
from pscgan.config.schema import apply_overrides
from pscgan.errors import InputError
from pscgan.models.ensemble import CascadeEnsemble, check_members_agree
from pscgan.models.factory import build_cascade
from .conftest import cine_for


def _cascade(seed: int, config=None) -> torch.nn.Module:  # noqa: ANN001 - a PscganConfig
    torch.manual_seed(seed)
    return build_cascade(config or get_preset("tiny")).eval()


def test_mean_of_probabilities_and_lge():
    cfg = get_preset("tiny")
    a, b, cine = _cascade(0), _cascade(1), cine_for(cfg)
    with torch.no_grad():
        out_a, out_b, out = a(cine), b(cine), CascadeEnsemble([a, b])(cine)
    assert set(out) == {"coarse_mask_logits", "lge", "mask_logits"}
    for key in ("mask_logits", "coarse_mask_logits"):
        expected = (out_a[key].softmax(1) + out_b[key].softmax(1)) / 2
        torch.testing.assert_close(out[key].softmax(1), expected)
        torch.testing.assert_close(out[key].exp(), expected)
    torch.testing.assert_close(out["lge"], (out_a["lge"] + out_b["lge"]) / 2)


def test_one_member_predicts_as_itself():
    cfg = get_preset("tiny")
    a, cine = _cascade(0), cine_for(cfg)
    with torch.no_grad():
        alone, ensemble = a(cine), CascadeEnsemble([a])(cine)
    assert torch.equal(alone["mask_logits"].argmax(1), ensemble["mask_logits"].argmax(1))
    torch.testing.assert_close(ensemble["lge"], alone["lge"])


def test_outputs_not_every_member_gives_are_left_out():
    cfg = get_preset("tiny")
    joint = _cascade(0, apply_overrides(cfg, ["model.progressive=false"]))
    with torch.no_grad():
        out = CascadeEnsemble([_cascade(1), joint])(cine_for(cfg))
    assert set(out) == {"lge", "mask_logits"}


def test_needs_a_member():
    with pytest.raises(ValueError, match="at least one"):
        CascadeEnsemble([])


@pytest.mark.parametrize(("override", "problem"), [
    ("model.image_size=32", "reads its input otherwise"),
    ("preprocessing.intensity_percentiles=[1,99]", "reads its input otherwise"),
    ("train.register_lge=false", "register_lge"),
    ("model.classes=3", "classes"),
])
def test_members_fed_otherwise_are_refused(override, problem):
    cfg = get_preset("tiny")
    paths = [Path("a.safetensors"), Path("b.safetensors")]
    with pytest.raises(InputError, match=problem) as err:
        check_members_agree([cfg, apply_overrides(cfg, [override])], paths)
    assert err.value.path == paths[1]


def test_members_with_other_networks_agree():
    cfg = get_preset("tiny")
    check_members_agree([cfg, apply_overrides(cfg, ["model.decoder_widths=[8,8,8,8]"])],
                        [Path("a.safetensors"), Path("b.safetensors")])
