"""Numbers as report text. An undefined value (``None``, NaN, inf) reads "not defined", never 0 or NaN.

Every function returns :class:`~pscgan.report.html.Html` (numbers, or the fixed "not defined" marker).

Example:
    >>> fmt_ratio(0.1234), fmt_ratio(None)
    ('12.3 %', '<span class="undef">not defined</span>')
    >>> fmt_value(27.456), fmt_value(0.82345), fmt_value(float("nan"))
    ('27.5', '0.823', '<span class="undef">not defined</span>')
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pscgan.report.html import Html

if TYPE_CHECKING:
    from typing_extensions import TypeIs

NOT_DEFINED = Html('<span class="undef">not defined</span>')
NOT_ASSESSED = Html('<span class="undef">not assessed</span>')

#: Display names of the usual imaging-metric keys; other keys are shown with ``_`` as spaces.
METRIC_NAMES: dict[str, str] = {
    "dice_overall": "Dice, overall (3 tissues)",
    "dice_blood_pool": "Dice, LV blood pool",
    "dice_lv_blood_pool": "Dice, LV blood pool",
    "dice_myocardium": "Dice, myocardium (healthy + scar)",
    "dice_healthy_myocardium": "Dice, healthy myocardium",
    "dice_scar": "Dice, scar",
    "hd95_mm": "HD95 (mm)",
    "ssim": "SSIM (synthetic vs real LGE)",
    "psnr_db": "PSNR (dB)",
    "nrmse": "NRMSE",
}


def is_defined(value: float | None) -> TypeIs[float]:
    return value is not None and math.isfinite(float(value))


def fmt_value(value: float | None, digits: int = 3) -> Html:
    """``value`` with ``digits`` significant digits (no exponent below 1e6)."""
    if not is_defined(value):
        return NOT_DEFINED
    v = float(value)
    if v == 0:
        return Html("0")
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(v)))))
    return Html(f"{v:.{decimals}f}")


def fmt_mean_sd(mean: float | None, sd: float | None, digits: int = 3) -> Html:
    """``mean (sd)`` with the mean to ``digits`` significant digits and the sd to the same decimals."""
    text = fmt_value(mean, digits)
    if not is_defined(mean) or not is_defined(sd):
        return text
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Html(f"{text} ({float(sd):.{decimals}f})")


def fmt_fixed(value: float | None, decimals: int = 1, unit: str = "") -> Html:
    """``value`` with a fixed number of decimals and an optional unit."""
    if not is_defined(value):
        return NOT_DEFINED
    text = f"{float(value):.{decimals}f}"
    if text.startswith("-") and float(text) == 0:  # "-0.0" reads like a sign error
        text = text[1:]
    return Html(f"{text} {unit}".rstrip())


def fmt_ratio(value: float | None, decimals: int = 1) -> Html:
    """A fraction (0..1) as a percentage."""
    return fmt_fixed(None if not is_defined(value) else 100.0 * float(value), decimals, "%")


def fmt_diff(
    pred: float | None, ref: float | None, decimals: int = 1, unit: str = "", scale: float = 1.0
) -> Html:
    """Signed difference ``pred - ref`` (scaled), or "not defined" when either side is."""
    if not (is_defined(pred) and is_defined(ref)):
        return NOT_DEFINED
    d = scale * (float(pred) - float(ref))
    text = fmt_fixed(d, decimals, unit)
    return text if text.startswith("-") or float(f"{d:.{decimals}f}") == 0 else Html("+" + text)


def metric_name(key: str) -> str:
    """Readable name of an imaging-metric key (not escaped: the caller escapes)."""
    return METRIC_NAMES.get(key, key.replace("_", " "))
