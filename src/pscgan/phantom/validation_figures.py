"""Figures of the phantom validation (matplotlib, Agg backend, written atomically).

* ``cases.png``: a few slices (IHD with scar first, then normal): cine ED, cine ES, LGE, and the label map
  overlaid on the LGE.
* ``thickening.png``: systolic wall thickening by group (normal, remote, adjacent to scar, transmurality
  bands) and thickening against transmurality.
* ``lge_histograms.png``: normalised LGE intensity distributions per tissue, phantom and (when
  given) the real reference cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pscgan.data.layout import Subject
from pscgan.io.atomic import atomic_path
from pscgan.phantom.validation_cohort import SCARRED_TRANSMURALITY, THICKENING_GROUPS
from pscgan.phantom.validation_lge import TISSUES, Samples

_LABEL_COLOURS = ["tab:red", "tab:green", "yellow"]  # blood pool, healthy myocardium, scar


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)


def plot_cases(cases: list[tuple[Subject, int, int]], path: Path) -> None:
    """One row per ``(subject, slice index, ES phase)``: cine ED, cine ES, LGE, labels over LGE."""
    plt = _pyplot()
    from matplotlib.colors import ListedColormap

    fig, axes = plt.subplots(max(len(cases), 1), 4, figsize=(10, 2.6 * max(len(cases), 1)), squeeze=False)
    for row, (subject, k, es) in zip(axes, cases):
        if subject.lge is None or subject.labels is None:
            raise ValueError(f"{subject.info.subject_id}: a phantom subject has labels and an LGE")
        ed = subject.info.ed_phase
        cine = subject.cine.array[:, :, k, :]
        lge = subject.lge.array[:, :, k].T
        labels = subject.labels.array[:, :, k].T
        vmax = float(np.percentile(cine, 99.5))
        row[0].imshow(cine[:, :, ed].T, cmap="gray", vmin=0, vmax=vmax)
        row[1].imshow(cine[:, :, es].T, cmap="gray", vmin=0, vmax=vmax)
        for ax in row[2:]:
            ax.imshow(lge, cmap="gray", vmin=0, vmax=float(np.percentile(lge, 99.5)))
        row[3].imshow(np.ma.masked_equal(labels, 0), cmap=ListedColormap(_LABEL_COLOURS), vmin=0.5, vmax=3.5,
                      alpha=0.45, interpolation="nearest")
        kind = "normal" if subject.info.normal else "IHD"
        titles = (f"{subject.info.subject_id} s{k} ({subject.info.slices[k].level.value}, {kind})\ncine ED",
                  f"cine ES (phase {es})", "LGE", "labels (red blood, green myo, yellow scar)")
        for ax, title in zip(row, titles):
            ax.set_title(title, fontsize=7)
            ax.set_axis_off()
    _save(fig, path)


def plot_thickening(rows: list[dict], path: Path) -> None:
    """Boxplot of thickening per group and scatter of thickening against transmurality."""
    plt = _pyplot()
    fig, (box, scatter) = plt.subplots(1, 2, figsize=(11, 4))
    groups = [g for g in THICKENING_GROUPS if any(r["group"] == g for r in rows)]
    data = [[100 * r["thickening"] for r in rows if r["group"] == g] for g in groups]
    if groups:
        box.boxplot(data, showfliers=False)
        ticks = [g.replace(" ", "\n") + f"\n(n={len(d)})" for g, d in zip(groups, data)]
        box.set_xticks(range(1, len(groups) + 1), ticks, fontsize=7)
    box.axhspan(40, 60, color="tab:green", alpha=0.12, label="spec: normal 40-60 %")
    box.axhline(30, color="tab:red", lw=0.8, ls="--", label="infarcted < 30 %")
    box.set_ylabel("systolic wall thickening (%)")
    box.set_title("thickening by AHA segment group", fontsize=9)
    box.legend(fontsize=7)
    ihd = [r for r in rows if r["group"] != "normal"]
    if ihd:
        scatter.scatter([100 * r["transmurality"] for r in ihd], [100 * r["thickening"] for r in ihd],
                        s=6, alpha=0.5)
    scatter.axvline(100 * SCARRED_TRANSMURALITY, color="gray", lw=0.8, ls=":")
    scatter.axhline(30, color="tab:red", lw=0.8, ls="--")
    scatter.set_xlabel("truth transmurality of the segment (%)")
    scatter.set_ylabel("systolic wall thickening (%)")
    scatter.set_title("IHD segments", fontsize=9)
    _save(fig, path)


def plot_lge_histograms(phantom: Samples, reference: dict[str, Samples] | None, path: Path) -> None:
    """Density histograms of normalised LGE intensity per tissue (:mod:`~pscgan.phantom.validation_lge`)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(TISSUES), figsize=(12, 3.6), layout="constrained")
    bins = np.linspace(-1.0, 2.5, 71)
    colours = {case: f"C{i + 1}" for i, case in enumerate(reference or {})}  # same case, same colour
    for ax, name in zip(axes, TISSUES):
        if phantom[name].size:
            ax.hist(np.clip(phantom[name], bins[0], bins[-1]), bins=bins, density=True, alpha=0.55,
                    color="C0", label=f"phantom (n={phantom[name].size})")
        for case, samples in (reference or {}).items():
            if samples[name].size:
                ax.hist(np.clip(samples[name], bins[0], bins[-1]), bins=bins, density=True, histtype="step",
                        lw=1.3, color=colours[case], label=f"{case} (n={samples[name].size})")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("LGE, myocardium median 0, blood median 1")
        ax.legend(fontsize=7)
    kind = " (phantom vs real)" if reference else " (phantom)"
    fig.suptitle("LGE intensity distributions" + kind, fontsize=10)
    _save(fig, path)
