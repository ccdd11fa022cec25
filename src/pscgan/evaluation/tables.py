"""The paper's Table 1 (imaging) and Table 2 (clinical) layouts, as Markdown and CSV.

``n/a``: no value could be computed (e.g. no reference). ``n/d``: not defined -- the method does not
produce this output, or the reference does not annotate it (listed under ``not_defined`` by
:mod:`pscgan.evaluation.cohort`, with the reason under ``not_defined_reasons``). On a reference whose
labels do not tell scar from healthy myocardium the healthy-myocardium row becomes "Myocardium (healthy
+ scar)": the prediction's healthy myocardium and scar together against the reference myocardium.

Example:
    >>> rows = [["Overall", "97.17 (0.48)%"]]
    >>> print(markdown_table(["", "Accuracy"], rows))
    |  | Accuracy |
    | --- | --- |
    | Overall | 97.17 (0.48)% |
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from pscgan.evaluation.summary import Summary

CLASS_ROWS = (("Overall", None), ("Scar", "scar"), ("Healthy myocardium", "healthy_myocardium"),
              ("Blood pool", "lv_blood_pool"))
NOT_DEFINED = "n/d"
NOT_DEFINED_NOTE = "n/d: not defined -- the method does not produce this output."
MYOCARDIUM_ROW = ("Myocardium (healthy + scar)", "myocardium")


def not_defined_notes(section: dict[str, Any]) -> str:
    """The table notes for a section's ``not_defined`` entries: one line per distinct reason ("" if none).

    Example:
        >>> not_defined_notes({"not_defined": ["synthesis"],
        ...                    "not_defined_reasons": {"synthesis": "the reference has no LGE images"}})
        '\\nn/d: not defined -- the reference has no LGE images.\\n'
    """
    if not section.get("not_defined"):
        return ""
    reasons = section.get("not_defined_reasons") or {}
    distinct = list(dict.fromkeys(reasons.get(k, "the method does not produce this output")
                                  for k in section["not_defined"]))
    return "\n" + "\n".join(f"n/d: not defined -- {r}." for r in distinct) + "\n"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = [
        "| " + " | ".join(str(h) for h in header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def csv_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV text with a header line; lines end in ``\\n`` on every platform (as pandas writes them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _pct(s: Summary | None) -> str:
    return s.format(2, 100, "%") if s is not None else "n/a"


def _num(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def table1(imaging: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    """Segmentation rows (accuracy, sensitivity, specificity, Dice, HD95) and the synthesis row."""
    seg_header = ["", "Accuracy", "Sensitivity", "Specificity", "Dice coefficient", "HD95 (mm)"]
    seg_rows = []
    seg = imaging.get("segmentation")
    not_defined = set(imaging.get("not_defined", []))
    merged = seg is not None and seg["per_class"].get("myocardium") is not None
    rows = [MYOCARDIUM_ROW if merged and key == "healthy_myocardium" else (title, key)
            for title, key in CLASS_ROWS]
    for title, key in rows:
        if "segmentation" in not_defined or ("segmentation.overall" if key is None
                                             else f"segmentation.per_class.{key}") in not_defined:
            seg_rows.append([title] + [NOT_DEFINED] * 5)
            continue
        if seg is None:
            seg_rows.append([title] + ["n/a"] * 5)
            continue
        m = seg["overall"] if key is None else seg["per_class"][key]
        seg_rows.append([title, _pct(m["accuracy"]), _pct(m["sensitivity"]), _pct(m["specificity"]),
                         m["dice"].format(3), m["hd95_mm"].format(1)])
    syn_header = ["SSIM", "NRMSE", "PSNR (dB)"]
    syn = imaging.get("synthesis")
    syn_rows = (
        [[syn["ssim"].format(2), syn["nrmse"].format(2), syn["psnr_db"].format(2)]] if syn else [["n/a"] * 3]
    )
    if "synthesis" in not_defined:
        syn_rows = [[NOT_DEFINED] * 3]
    return seg_header, seg_rows, syn_header, syn_rows


def table2(clinical: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str], list[list[str]]]:
    """Diagnostic rows (localisation, transmurality) and agreement rows (scar size, scar ratio)."""
    diag_header = ["", "Sensitivity", "Specificity", "PPV", "NPV", "AUC"]
    diag_rows = []
    not_defined = set(clinical.get("not_defined", []))
    for title, key in (("Scar segment-level localization", "segment_localisation"),
                       ("Scar transmurality (> 50 %)", "transmurality")):
        d = clinical.get(key)
        if key in not_defined:
            diag_rows.append([title] + [NOT_DEFINED] * 5)
        elif d is None:
            diag_rows.append([title] + ["n/a"] * 5)
        else:
            diag_rows.append(
                [title]
                + [
                    _num(None if d[k] is None else 100 * d[k], 2) + ("%" if d[k] is not None else "")
                    for k in ("sensitivity", "specificity", "ppv", "npv")
                ]
                + [_num(d["auc"])]
            )
    agree_header = ["", "Method", "Reference", "Pearson's r (p-value)", "Bias (limits of agreement)", "n"]
    agree_rows = []
    for title, key, scale in (
        ("Scar size per slice (cm²)", "scar_size_slice_cm2", 1.0),
        ("Scar volume (ml)", "scar_volume_ml", 1.0),
        ("Scar ratio (%)", "scar_ratio", 100.0),
    ):
        a = clinical[key]
        if key in not_defined:
            agree_rows.append([title] + [NOT_DEFINED] * 5)
            continue

        def ms(mean: float | None, sd: float | None) -> str:
            if mean is None:
                return "n/a"
            return f"{mean * scale:.2f} ± {sd * scale:.2f}" if sd is not None else f"{mean * scale:.2f}"

        p, ba = a["pearson"], a["bland_altman"]
        r = "not defined" if p["r"] is None else f"{p['r']:.2f} ({p['p_value']:.2g})"
        bias = ("not defined" if ba["bias"] is None else
                f"{ba['bias'] * scale:.2f} ({ba['lower'] * scale:.2f}, {ba['upper'] * scale:.2f})")
        agree_rows.append([title, ms(a["pred_mean"], a["pred_sd"]), ms(a["ref_mean"], a["ref_sd"]), r, bias,
                           str(p["n"]) + (f" (+{p['n_excluded']} not defined)" if p["n_excluded"] else "")])
    return diag_header, diag_rows, agree_header, agree_rows
