"""The paper's reported ablation effects, and whether an experiment reproduces their direction.

The paper (Xu et al., section 7, Tables 3-5) reports for each ablation the overall segmentation
accuracy, the SSIM of the synthetic LGE, the PSNR (Table 5 only) and Pearson's r of the scar size, on
its 180 patients. Its numbers cannot be compared with a phantom's, but the *direction* of each effect
can: does removing a component make the result worse here as it did there? :func:`compare_with_paper`
answers this for every variant and metric the paper reports, from an experiment's table rows.

Where the paper gives only a difference in its text (the rows of Table 4 not printed in the table:
2DConv+1DConv, LSTM/GRU/RNN+2DConv) the variant's value is the full model's minus that difference.
Where the table and the text both give a difference they disagree by up to 0.1 percentage point
(e.g. ConvLSTM: 1.20 by Table 4, 1.13 in section 7.4); the tables are used. Table 6 compares with
other published methods, not with this project's baselines, so it has no entry.

Example:
    >>> effect = paper_effects("table3")["adversarial_off"]["ssim"]
    >>> effect.full, effect.variant, effect.direction
    (0.78, 0.55, -1)
    >>> verdict(paper_direction=-1, difference=-0.02, p_value=0.001)
    'same direction'
    >>> verdict(paper_direction=-1, difference=0.01, p_value=0.4)
    'no significant difference here'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pscgan.experiments.variants import ExperimentTable

#: Significance level of the paired test below which an effect counts as measured.
ALPHA = 0.05

#: Metric keys the paper reports in its ablation tables, with the tables' column titles.
PAPER_METRICS = {
    "accuracy": "Accuracy (overall)",
    "ssim": "SSIM",
    "psnr_db": "PSNR (dB)",
    "scar_size_r": "Pearson's r (scar size)",
}


@dataclass(frozen=True)
class PaperEffect:
    """One effect the paper reports: the full model's value, the variant's, and their direction.

    Attributes:
        full: the full model's value (accuracy as a fraction).
        variant: the variant's value, ``None`` when the paper gives only an ordering.
        direction: sign of variant minus full (+1 better, -1 worse, 0 equal; every metric here is
            better when higher).
        source: where in the paper the numbers are.
    """

    full: float
    variant: float | None
    direction: int
    source: str


def _effect(full: float, variant: float, source: str) -> PaperEffect:
    difference = round(variant - full, 6)
    return PaperEffect(full, variant, (difference > 0) - (difference < 0), source)


# The full model's figures (Tables 3-5 agree on them).
_ACC, _SSIM, _PSNR, _R = 0.9717, 0.78, 23.03, 0.97


def _row(source: str, accuracy: float | None = None, ssim: float | None = None,
         r: float | None = None) -> dict[str, PaperEffect]:
    values = {"accuracy": (_ACC, accuracy), "ssim": (_SSIM, ssim), "scar_size_r": (_R, r)}
    return {k: _effect(full, v, source) for k, (full, v) in values.items() if v is not None}


def _text_row(source: str, accuracy_drop: float, ssim_drop: float) -> dict[str, PaperEffect]:
    return _row(source, accuracy=round(_ACC - accuracy_drop, 6), ssim=round(_SSIM - ssim_drop, 6))


_PAPER: dict[ExperimentTable, dict[str, dict[str, PaperEffect]]] = {
    ExperimentTable.TABLE3: {
        "adversarial_off": _row("Table 3", accuracy=0.9592, ssim=0.55, r=0.95),
        "progressive_off": _row("Table 3", accuracy=0.9491, ssim=0.61, r=0.93),
        "conv3d": _row("Table 3", accuracy=0.9513, ssim=0.64, r=0.96),
    },
    ExperimentTable.TABLE4: {
        "spatial_only": _row("Table 4", accuracy=0.7361, ssim=0.48, r=0.71),
        "temporal_only": _row("Table 4", accuracy=0.8942, ssim=0.57, r=0.83),
        "attention_off": _row("Table 4", accuracy=0.9672, ssim=0.74, r=0.94),
        "convlstm": _row("Table 4", accuracy=0.9597, ssim=0.71, r=0.91),
        "conv3d_lstm": _row("Table 4", accuracy=0.9647, ssim=0.70, r=0.93),
        "conv2d_conv1d": _text_row("section 7.4 (differences to the full SCLN)", 0.0265, 0.08),
        "lstm_conv2d": _text_row("section 7.4 (differences to the full SCLN)", 0.0195, 0.05),
        "gru_conv2d": _text_row("section 7.4 (differences to the full SCLN)", 0.0187, 0.03),
        "rnn_conv2d": _text_row("section 7.4 (differences to the full SCLN)", 0.0406, 0.17),
    },
    ExperimentTable.TABLE5: {
        "regularisation_off": {
            "ssim": _effect(_SSIM, 0.77, "Table 5"),
            "psnr_db": _effect(_PSNR, 21.50, "Table 5"),
        },
        "auxiliary_off": {"accuracy": _effect(_ACC, 0.9704, "Table 5")},
        "wgan_gp": {
            "accuracy": _effect(_ACC, 0.9717, "section 7.5"),
            "ssim": _effect(_SSIM, 0.76, "section 7.5"),
        },
        # Section 7.5: same accuracy; SSIM below the hinge loss's 0.78 and WGAN-GP's 0.76, value not given.
        "lsgan": {
            "accuracy": _effect(_ACC, 0.9717, "section 7.5"),
            "ssim": PaperEffect(_SSIM, None, -1, "section 7.5 (below 0.76, value not given)"),
        },
    },
}


def paper_effects(table: ExperimentTable | str) -> dict[str, dict[str, PaperEffect]]:
    """The paper's reported effects of ``table``'s variants: variant name -> metric key -> effect.

    Empty for a table the paper has no ablation numbers for (``table6``, ``efficiency``).
    """
    return _PAPER.get(ExperimentTable(table), {})


def verdict(paper_direction: int, difference: float | None, p_value: float | None,
            tested: bool = True) -> str:
    """How a measured difference (variant minus reference) relates to the paper's direction.

    A tested metric counts as changed only when its paired test has ``p < ALPHA``, in the direction
    of ``difference`` (the test's median paired difference); an untested one (Pearson's r, a cohort
    statistic) by the sign of its difference alone, which the wording says.
    """
    if difference is None:
        return "not measured here"
    if tested and (p_value is None or p_value >= ALPHA):
        return "no difference in either" if paper_direction == 0 else "no significant difference here"
    here = (difference > 0) - (difference < 0)
    suffix = "" if tested else " (not tested)"
    if paper_direction == 0:
        return ("paper: no difference, here: " + ("better" if here > 0 else "worse") + suffix) if here \
            else "no difference in either"
    if here == paper_direction:
        return "same direction" + suffix
    return ("opposite direction" if here else "no difference here") + suffix


def compare_with_paper(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per variant and metric the paper reports, for an experiment's table result.

    Args:
        result: the content of ``EXP/<table>.json`` (rows with seed summaries and paired tests).

    Returns:
        ``[{"variant", "label", "metric", "paper_full", "paper_variant", "paper_direction",
        "paper_source", "reference_mean", "variant_mean", "mean_difference",
        "median_paired_difference", "p_value", "verdict"}]``
        in table and metric order; variants without finished runs are left out.
    """
    effects = paper_effects(result["table"])
    rows = {r["name"]: r for r in result["rows"]}
    reference = rows.get(result["reference"])
    out: list[dict[str, Any]] = []
    if reference is None:
        return out
    for name, row in rows.items():
        for metric in PAPER_METRICS:
            effect = effects.get(name, {}).get(metric)
            if effect is None:
                continue
            ref_mean = reference["metrics"][metric]["mean"]
            var_mean = row["metrics"][metric]["mean"]
            difference = None if ref_mean is None or var_mean is None else var_mean - ref_mean
            test = row["tests"].get(metric) or {}
            tested = metric in result.get("paired_metrics", ())
            p_value = test.get("p_value")
            # the paired test's location estimate decides a tested direction; it falls back on the
            # difference of the means when the median difference is exactly 0 (ties)
            paired = test.get("median_difference")
            direction_of = paired if tested and paired else difference
            out.append({
                "variant": name,
                "label": row["label"],
                "metric": metric,
                "paper_full": effect.full,
                "paper_variant": effect.variant,
                "paper_direction": effect.direction,
                "paper_source": effect.source,
                "reference_mean": ref_mean,
                "variant_mean": var_mean,
                "mean_difference": difference,
                "median_paired_difference": paired,
                "p_value": p_value,
                "verdict": verdict(effect.direction, direction_of, p_value, tested=tested),
            })
    return out
