"""Oracle LGE images: what a synthesiser that knew more than the cine could draw at best.

A model that sees only a subject's cine cannot know the LGE's noise realisation, the cine-to-LGE
misregistration or the subject's contrast parameters. Rendering a phantom subject again from its recorded
parameters with some of that randomness switched off gives reference points for what such a model can
reach against the real (noisy, misregistered) LGE:

* ``noise_free``: the same parameters with the LGE noise switched off (a scar SNR so high that the noise
  stays far below the 12-bit quantisation step). Only ``acquisition.snr_lge`` changes, and the noise
  generator is still drawn from as often as before, so the cine and every other slice are unchanged.
* ``noise_free_registered``: additionally no misregistration (in-plane shift 0, rotation 0, through-plane
  shift 0, LGE radius scale 1): the LGE of the cine's end-diastolic geometry.

A model that cannot know the misregistration minimises its squared error by drawing the expectation over
it, not the registered image: :func:`prior_misregistrations` draws
misregistrations from the phantom's own priors and :func:`with_misregistration` puts one into a subject's
parameters, so that noise-free renders can be averaged over them.

:func:`paint_class_means` gives a third, model-free bound: a piecewise-constant image painting each class
of a label map with the mean intensity the real image has there (what a perfect segmenter that also knew
the per-slice class means would draw). It works on any image and label map, phantom or not.

Example:
    >>> from pscgan.phantom.params import sample_subject
    >>> from pscgan.phantom.render import render_subject
    >>> p = sample_subject(3, normal=False, n_slices=1)
    >>> clean = render_subject(oracle_params(p, "noise_free"))
    >>> clean.lge.shape, bool((clean.cine == render_subject(p).cine).all())
    ((64, 64, 1), True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from pscgan.errors import InputError
from pscgan.phantom.params import SubjectParams, sample_subject

#: The acquisition parameters of the cine-to-LGE misregistration, and their values when there is none.
REGISTERED: dict[str, Any] = {"misregistration_mm": (0.0, 0.0), "misregistration_deg": 0.0,
                              "misregistration_through_mm": 0.0, "lge_radius_scale": 1.0}
#: Scar SNR of a noise-free LGE: the noise is ~1e-12 of the scar signal, far below one quantisation step.
NOISE_FREE_SNR = 1e12


class OracleKind(str, Enum):
    """Which per-subject randomness an oracle re-render removes."""

    NOISE_FREE = "noise_free"
    NOISE_FREE_REGISTERED = "noise_free_registered"


def oracle_params(params: SubjectParams, kind: OracleKind | str) -> SubjectParams:
    """A copy of ``params`` with the randomness named by ``kind`` switched off (``params`` is unchanged)."""
    kind = OracleKind(kind)
    update: dict[str, Any] = {"snr_lge": NOISE_FREE_SNR}
    if kind is OracleKind.NOISE_FREE_REGISTERED:
        update |= REGISTERED
    return _with_acquisition(params, update)


def _with_acquisition(params: SubjectParams, update: Mapping[str, Any]) -> SubjectParams:
    acquisition = params.acquisition.model_copy(update=dict(update))
    return params.model_copy(update={"acquisition": acquisition}, deep=True)


def with_misregistration(params: SubjectParams, misregistration: Mapping[str, Any]) -> SubjectParams:
    """A copy of ``params`` with the misregistration fields (the keys of :data:`REGISTERED`) replaced."""
    unknown = set(misregistration) - set(REGISTERED)
    if unknown:
        raise ValueError(f"not misregistration parameters: {sorted(unknown)}")
    return _with_acquisition(params, misregistration)


def prior_misregistrations(n: int, seed: int | Sequence[int] = 0) -> list[dict[str, Any]]:
    """``n`` independent misregistrations from the phantom's priors (those of freshly sampled subjects,
    so they follow :mod:`pscgan.phantom.priors` whatever its distributions are)."""
    seeds = np.random.SeedSequence(seed).generate_state(n)
    drawn = [sample_subject(int(s), normal=False, n_slices=1).acquisition for s in seeds]
    return [{name: getattr(acquisition, name) for name in REGISTERED} for acquisition in drawn]


def recorded_params(subject_folder: str | Path) -> tuple[SubjectParams, int]:
    """The phantom parameters and written matrix recorded in a subject folder's ``subject.json``.

    Raises:
        InputError: the folder is not a phantom subject or its parameters do not validate.
    """
    from pydantic import ValidationError

    from pscgan.data.layout import SUBJECT_FILE, read_subject_info

    folder = Path(subject_folder)
    phantom = read_subject_info(folder).phantom or {}
    if "params" not in phantom:
        raise InputError(folder / SUBJECT_FILE, "holds no phantom parameters (not a phantom subject)")
    try:
        params = SubjectParams.model_validate(phantom["params"])
    except ValidationError as exc:
        problem = f"invalid phantom parameters: {exc.errors()[0]['msg']}"
        raise InputError(folder / SUBJECT_FILE, problem) from None
    return params, int(phantom.get("matrix", 64))


def paint_class_means(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Paint each class of each slice with the mean of ``image`` over that class in that slice.

    Args:
        image: ``(S, H, W)`` intensities (e.g. network LGE crops in [-1, 1]).
        labels: ``(S, H, W)`` integer label map of the same shape.

    Returns:
        ``(S, H, W)`` float32 piecewise-constant image, the least-squares fit to ``image`` among images
        constant on every class of every slice.
    """
    image, labels = np.asarray(image, np.float64), np.asarray(labels)
    if image.shape != labels.shape or image.ndim != 3:
        raise ValueError(f"image {image.shape} and labels {labels.shape} must be the same (S, H, W) shape")
    out = np.empty(image.shape, np.float32)
    for k in range(image.shape[0]):
        classes = np.unique(labels[k])
        means = np.asarray(ndimage.mean(image[k], labels[k], index=classes))
        out[k] = means[np.searchsorted(classes, labels[k])]
    return out
