"""Cohort-level checks of the phantom: per-slice measurements summarised beside the spec's ranges.

The ranges and their sources are those of the phantom specification (section numbers below); ``[S]``
marks a literature value, ``[E]`` an estimate or a derivation from the spec's own model. The ranges for
fractional area change are derived from the spec's end-systolic radius model
``r_ES / r_ED = sqrt((1 - EF) / (1 - |GLS|))``, so the blood-pool area ratio is ``(1 - EF) / (1 - |GLS|)``
and the fractional area change ``1 - (1 - EF) / (1 - |GLS|)``: with EF 0.58-0.72 and |GLS| 0.15-0.20
(normal) that is 0.51-0.65, with EF 0.30-0.55 and |GLS| 0.08-0.14 (IHD) 0.24-0.48. A single slice's
fractional area change is not the volumetric ejection fraction (no long-axis shortening, no base-to-apex
integration); it is reported as what it is.

Intensity checks come in two kinds: ratios measured on the images with the label maps (what a user sees,
including noise, partial volume, shading and the designed cine-LGE misregistration), and ratios of the
noise-free tissue signals the generator records (``phantom.truth.cine_signal`` / ``lge_signal``), which
is what the spec's signal-model ranges (spec 3) describe.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import stats

from pscgan.geometry.aha import LEVEL_SEGMENTS
from pscgan.phantom.validation_checks import Check, Rule
from pscgan.phantom.validation_measure import SliceMeasurement

#: A segment counts as scarred above this truth transmurality (spec section 2: thickening drops
#: significantly above 25 % transmurality, JCMR 2005).
SCARRED_TRANSMURALITY = 0.25
#: Below this transmurality a segment counts as scar-free (guards against rounding in the truth).
SCAR_FREE_TRANSMURALITY = 0.01
#: Transmurality above which a segment counts as involved when labels and truth are compared: a scar
#: sliver thinner than half a pixel cannot survive the label rasterisation.
INVOLVED_TRANSMURALITY = 0.05
THICKENING_GROUPS = ("normal", "remote", "adjacent", "TEI 1-25%", "TEI 26-50%", "TEI 51-75%", "TEI 76-100%")


def _seg_dict(d: dict | None) -> dict[int, float]:
    return {int(k): float(v) for k, v in (d or {}).items() if v is not None}


def _num(d: dict, key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def segment_transmurality_truth(m: SliceMeasurement) -> dict[int, float]:
    """Truth transmurality per segment, or the label-derived one when no truth was recorded."""
    truth = _seg_dict(m.truth.get("transmurality_by_segment"))
    return truth if truth else dict(m.transmurality)


def _neighbours(seg: int) -> tuple[int, int]:
    ring = next(segs for segs in LEVEL_SEGMENTS.values() if seg in segs)
    i = ring.index(seg)
    return ring[i - 1], ring[(i + 1) % len(ring)]


def thickening_group(m: SliceMeasurement, seg: int, tei: dict[int, float]) -> str:
    """Thickening group of a segment: normal subject, remote, adjacent to scar, or a transmurality band."""
    if m.normal:
        return "normal"
    t = tei.get(seg, 0.0)
    if t < SCAR_FREE_TRANSMURALITY:
        near = any(tei.get(n, 0.0) >= SCAR_FREE_TRANSMURALITY for n in _neighbours(seg))
        return "adjacent" if near else "remote"
    for upper, name in ((0.25, "TEI 1-25%"), (0.5, "TEI 26-50%"), (0.75, "TEI 51-75%")):
        if t <= upper:
            return name
    return "TEI 76-100%"


def thickening_table(ms: Iterable[SliceMeasurement]) -> list[dict]:
    """One row per measured segment: subject, slice, level, segment, group, transmurality, thickening."""
    rows = []
    for m in ms:
        tei = segment_transmurality_truth(m)
        for seg, th in m.thickening.items():
            if np.isfinite(th):
                rows.append({"subject_id": m.subject_id, "slice_index": m.slice_index, "level": m.level,
                             "segment": seg, "group": thickening_group(m, seg, tei),
                             "transmurality": tei.get(seg, 0.0), "thickening": th,
                             "abs_thickening_mm": m.thickness_es_mm[seg] - m.thickness_ed_mm[seg]})
    return rows


def _geometry_checks(ms: list[SliceMeasurement]) -> list[Check]:
    normal_mid = [m for m in ms if m.normal and m.level == "mid"]
    return [
        Check.summarise("r_endo_mid_normal_mm", "geometry",
                        "ED cavity radius (area-equivalent), normal mid slices",
                        [m.r_endo_mm for m in normal_mid], low=22.0, high=27.0, unit="mm",
                        source="spec 1 [S: LV diameter 46-50 mm]", note="papillary muscles count as cavity"),
        Check.summarise("wall_mid_normal_mm", "geometry", "ED wall thickness (rays), normal mid slices",
                        [m.wall_thickness_mm for m in normal_mid], low=6.0, high=9.0, unit="mm",
                        source="spec 1 [S: MESA]"),
        Check.proportion("lv_touches_border", "geometry", "slices whose LV reaches the image border",
                         sum(m.touches_border for m in ms), len(ms), low=0.0, high=0.0,
                         source="spec 0 (64x64 crop around the LV)",
                         note="the crop cuts the heart; rays through the border are not measured"),
    ]


def _function_checks(ms: list[SliceMeasurement]) -> list[Check]:
    normal = [m for m in ms if m.normal]
    ihd = [m for m in ms if m.normal is False]
    ef_by_subject = {m.subject_id: (m.ef_param, m.normal) for m in ms if m.ef_param is not None}
    fac_note = "single-slice blood-pool area change, not volumetric EF"
    checks = [
        Check.summarise("ef_parameter_normal", "function", "EF parameter, normal subjects",
                        [e for e, n in ef_by_subject.values() if n], rule=Rule.ALL, low=0.58, high=0.72,
                        source="spec 1 [S: Hudsmith]", note="recorded parameter, per subject"),
        Check.summarise("ef_parameter_ihd", "function", "EF parameter, IHD subjects",
                        [e for e, n in ef_by_subject.values() if n is False], rule=Rule.ALL, low=0.30,
                        high=0.55, source="spec 1", note="recorded parameter, per subject"),
        Check.summarise("fac_normal", "function", "blood-pool fractional area change, normal slices",
                        [m.fac for m in normal], low=0.51, high=0.65, source="spec 1 [E: derived]",
                        note=fac_note),
        Check.summarise("fac_ihd", "function", "blood-pool fractional area change, IHD slices",
                        [m.fac for m in ihd], low=0.24, high=0.48, source="spec 1 [E: derived]",
                        note=fac_note),
    ]
    rows = thickening_table(ms)
    by_group = {g: [r["thickening"] for r in rows if r["group"] == g] for g in THICKENING_GROUPS}
    scarred = [r["thickening"] for r in rows
               if r["transmurality"] > SCARRED_TRANSMURALITY and r["group"] != "normal"]
    checks += [
        Check.summarise("thickening_normal", "function",
                        "systolic wall thickening, segments of normal subjects", by_group["normal"],
                        low=0.40, high=0.60, source="spec 1 [E: 51 % worked example]"),
        Check.summarise("thickening_remote", "function", "systolic wall thickening, remote segments (IHD)",
                        by_group["remote"], low=0.40, high=0.69,
                        source="spec 1-2 [E/S: 40-60 % x hyperkinesis 1.0-1.15, Pahlm]",
                        note="truth transmurality 0 in the segment and both neighbours"),
        Check.summarise("thickening_scarred", "function",
                        "systolic wall thickening, segments with transmurality "
                        f"> {SCARRED_TRANSMURALITY:.0%}",
                        scarred, high=0.30, source="spec 2 [S: JCMR 2005, JCMR 2009]"),
    ]
    if len(scarred) >= 3 and len(by_group["remote"]) >= 3:
        n = len(scarred) + len(by_group["remote"])
        p = float(stats.mannwhitneyu(scarred, by_group["remote"], alternative="less").pvalue)
        checks += [Check("thickening_scar_vs_remote_p", "function",
                         "scarred thicken less than remote (one-sided Mann-Whitney p)", p, low=0.0, high=0.01,
                         n=n, source="spec 2 [S]"),
                   Check("thickening_scar_over_remote", "function", "median thickening, scarred / remote",
                         float(np.median(scarred) / np.median(by_group["remote"])), n=n, note="informative")]
    healthy = [r for r in rows if r["group"] in ("normal", "remote")]
    checks += [
        Check.summarise("abs_thickening_basal_mid", "function",
                        "absolute thickening, normal+remote, basal/mid",
                        [r["abs_thickening_mm"] for r in healthy if r["level"] != "apical"],
                        low=2.9, high=5.8, unit="mm", source="spec 1 [S: Ubachs 4.3-4.4 +- 1.4 mm]"),
        Check.summarise("abs_thickening_apical", "function", "absolute thickening, normal+remote, apical",
                        [r["abs_thickening_mm"] for r in healthy if r["level"] == "apical"],
                        low=1.8, high=4.6, unit="mm", source="spec 1 [S: Ubachs 3.2 +- 1.4 mm]"),
    ]
    return checks


def _signal_ratio(m: SliceMeasurement, kind: str, a: str, b: str) -> float | None:
    sig = m.truth.get(kind) or {}
    num, den = _num(sig, a), _num(sig, b)
    return num / den if num is not None and den else None


def _per_subject(ms: Iterable[SliceMeasurement], values: Iterable[float | None]) -> list[float]:
    """One value per subject (subject-level quantities repeat on every slice)."""
    return list({m.subject_id: v for m, v in zip(ms, values) if v is not None}.values())


def _contrast_checks(ms: list[SliceMeasurement]) -> list[Check]:
    scarred = [m for m in ms if m.cine_scar_rel_contrast is not None]
    signed = [v - c for m in scarred if (v := m.cine_scar_rel_contrast) is not None
              and (c := _num(m.truth, "cine_scar_contrast")) is not None]
    ihd = [m for m in ms if m.normal is False]
    image_note = "images with labels: includes partial volume, border zone, misregistration"
    cine_signal = _per_subject(ms, [_signal_ratio(m, "cine_signal", "blood", "myocardium") for m in ms])
    lge_scar_signal = _per_subject(ihd, [_signal_ratio(m, "lge_signal", "scar", "blood") for m in ihd])
    lge_myo_signal = _per_subject(ms, [_signal_ratio(m, "lge_signal", "myocardium", "blood") for m in ms])
    return [
        Check.summarise("cine_blood_myo", "contrast", "cine ED blood / myocardium (images)",
                        [m.cine_blood_myo for m in ms], rule=Rule.CENTRAL_90, low=2.5, high=4.0,
                        source="spec 3, 6 [S: PMC8147553]",
                        note="shading-corrected medians of tissue interiors per slice"),
        Check.summarise("cine_blood_myo_signal", "contrast", "cine blood / myocardium (recorded signals)",
                        cine_signal, rule=Rule.CENTRAL_90, low=2.5, high=4.0, source="spec 3 [S: 2.9-3.4]",
                        note="per subject"),
        Check.summarise("cine_scar_contrast", "contrast", "cine ED scar / myocardium - 1 (images)",
                        [m.cine_scar_rel_contrast for m in scarred], low=-0.08, high=0.02,
                        source="spec 3 [E: sampled U(-0.08, +0.02)]"),
        Check.summarise("cine_scar_contrast_bias", "contrast",
                        "measured minus recorded cine scar contrast (median: systematic part)", signed,
                        low=-0.02, high=0.02, source="[E] no cine scar contrast beyond the recorded one"),
        Check.summarise("cine_scar_contrast_error", "contrast",
                        "absolute error of the measured cine scar contrast vs the recorded one",
                        [abs(e) for e in signed],
                        note="informative; noise, partial volume and 3 T off-resonance bands limit a "
                             "per-slice value"),
        Check.summarise("lge_scar_myo", "contrast", "LGE scar / myocardium (images)",
                        [m.lge_scar_myo for m in ms], low=3.0,
                        source="spec 3 [E: nulled myocardium, scar SNR 12-35]", note=image_note),
        Check.summarise("lge_scar_blood", "contrast", "LGE scar / blood (images)",
                        [m.lge_scar_blood for m in ms], note=image_note + "; informative"),
        Check.summarise("lge_scar_blood_signal", "contrast", "LGE scar / blood (recorded signals)",
                        lge_scar_signal, rule=Rule.CENTRAL_90, low=1.0, high=1.45,
                        source="spec 3 [E: IR signal model, 'across ranges']", note="per IHD subject"),
        Check.summarise("lge_myo_blood_signal", "contrast", "LGE abs(myocardium) / blood (recorded signals)",
                        [abs(r) for r in lge_myo_signal], high=0.15,
                        source="spec 3 [E: median TI error 3.4 % gives about 0.06; 2x margin]",
                        note="per subject; residual of the myocardial null"),
        Check.summarise("lge_blood_myo", "contrast", "LGE blood / myocardium (images)",
                        [m.lge_blood_myo for m in ms], note="informative"),
    ]


def _scar_checks(ms: list[SliceMeasurement]) -> list[Check]:
    ihd = [m for m in ms if m.normal is False]
    normal = [m for m in ms if m.normal]
    by_subject: dict[str, list[float]] = {}
    for m in ihd:
        acc = by_subject.setdefault(m.subject_id, [0.0, 0.0])
        acc[0] += m.scar_area_mm2
        acc[1] += m.myocardium_area_mm2
    trans = [m.transmurality[s] for m in ihd for s in m.scar_segments
             if np.isfinite(m.transmurality.get(s, np.nan))]
    return [
        Check.summarise("scar_area_mid_cm2", "scar", "scar area per mid IHD slice with scar",
                        [m.scar_area_mm2 / 100.0 for m in ihd if m.level == "mid" and m.scar_area_mm2 > 0],
                        rule=Rule.CENTRAL_90, low=0.3, high=6.0, unit="cm^2", source="spec 5 [E]"),
        Check.summarise("scar_area_all_cm2", "scar", "scar area per IHD slice with scar (all levels)",
                        [m.scar_area_mm2 / 100.0 for m in ihd if m.scar_area_mm2 > 0], unit="cm^2",
                        note="informative"),
        Check.proportion("ihd_slices_without_scar", "scar", "IHD slices without scar",
                         sum(m.scar_area_mm2 == 0 for m in ihd), len(ihd), low=0.20, high=0.30,
                         source="spec 5 [E]"),
        Check.summarise("normal_scar_area_mm2", "scar", "scar area in slices of normal subjects",
                        [m.scar_area_mm2 for m in normal], rule=Rule.ALL, low=0.0, high=0.0, unit="mm^2",
                        source="spec 5"),
        Check.summarise("infarct_size_pct", "scar", "infarct size per IHD subject (scar / myocardium)",
                        [100.0 * s / w for s, w in by_subject.values() if w > 0], low=4.6, high=19.0,
                        unit="%", source="spec 5 [S: 11.8 +- 7.2 %]",
                        note="over the subject's slices, not the whole LV"),
        Check.summarise("transmurality_scar_segments", "scar", "transmurality of scar-positive segments",
                        trans, low=0.28, high=0.66, source="spec 5 [S: 47 +- 19 %]",
                        note="label-derived, mean over rays"),
    ]


def _relative_errors(pairs: Iterable[tuple[float | None, float | None]], min_truth: float) -> list[float]:
    return [abs(a - t) / t for a, t in pairs if a is not None and t is not None and t >= min_truth]


def _consistency_checks(ms: list[SliceMeasurement]) -> list[Check]:
    label = "[E] label rasterisation"
    scar = [(m.scar_area_mm2, t) for m in ms if (t := _num(m.truth, "scar_area_mm2")) is not None]
    total = (sum(a for a, _ in scar), sum(t for _, t in scar))
    checks = [
        Check("scar_area_total_vs_truth", "consistency", "total scar area, labels vs truth (relative)",
              (total[0] - total[1]) / total[1] if total[1] > 0 else None, low=-0.05, high=0.05, n=len(scar),
              source=label),
        Check.summarise("scar_area_slice_vs_truth", "consistency",
                        "per-slice relative scar-area error, labels vs truth (truth >= 50 mm^2)",
                        _relative_errors(scar, 50.0), high=0.10, source=label),
        Check.summarise("myocardium_area_vs_truth", "consistency",
                        "per-slice relative myocardium-area error, labels vs truth",
                        _relative_errors([(m.myocardium_area_mm2, _num(m.truth, "myocardium_area_mm2"))
                                          for m in ms], 1.0), high=0.05, source=label),
        Check.summarise("blood_area_ed_vs_truth", "consistency",
                        "per-slice relative ED blood-pool area error, cine labels vs truth",
                        _relative_errors([(m.blood_area_ed_mm2, _num(m.truth, "blood_pool_area_mm2_ed"))
                                          for m in ms], 1.0), high=0.05, source=label),
    ]
    fac_err = []
    es_match = []
    center_err = []
    for m in ms:
        ed, es = _num(m.truth, "blood_pool_area_mm2_ed"), _num(m.truth, "blood_pool_area_mm2_es")
        if m.fac is not None and ed and es is not None:
            fac_err.append(abs(m.fac - (1.0 - es / ed)))
        if m.es_phase is not None and (t := _num(m.truth, "es_phase")) is not None:
            es_match.append(abs(m.es_phase - t) <= 1)
        c = m.truth.get("lv_center_rc")
        if m.center_rc is not None and isinstance(c, list) and len(c) == 2:
            center_err.append(float(np.hypot(*(np.subtract(m.center_rc, c)))))
    th_err = [abs(m.thickness_ed_mm[s] - t) for m in ms
              for s, t in _seg_dict(m.truth.get("wall_thickness_mm_ed")).items()
              if np.isfinite(m.thickness_ed_mm.get(s, np.nan))]
    pairs = [(m.transmurality[s], t) for m in ms
             for s, t in _seg_dict(m.truth.get("transmurality_by_segment")).items()
             if np.isfinite(m.transmurality.get(s, np.nan))]
    agree = [(a > INVOLVED_TRANSMURALITY) == (t > INVOLVED_TRANSMURALITY) for a, t in pairs]
    checks += [
        Check.summarise("fac_vs_truth", "consistency", "absolute FAC error, cine labels vs truth areas",
                        fac_err, high=0.03, source=label),
        Check.proportion("es_phase_vs_truth", "consistency", "slices whose smallest blood pool is within one "
                         "phase of the recorded ES phase", sum(es_match), len(es_match), low=0.9, high=1.0,
                         source="[E]"),
        Check.summarise("lv_center_vs_truth_px", "consistency", "LV centre from ED cine labels vs truth",
                        center_err, high=1.0, unit="px", source="[E] papillary muscles, rasterisation"),
        Check.summarise("thickness_ed_vs_truth", "consistency",
                        "absolute ED wall-thickness error per segment, rays on cine labels vs truth", th_err,
                        high=0.75, unit="mm", source="[E] half a pixel"),
        Check.summarise("transmurality_vs_truth", "consistency",
                        "absolute transmurality error per segment, labels vs truth",
                        [abs(a - t) for a, t in pairs], high=0.05, source=label),
        Check.proportion("scar_segments_vs_truth", "consistency",
                         f"segments involved (transmurality > {INVOLVED_TRANSMURALITY:.0%}) by labels and by "
                         "truth alike", int(sum(agree)), len(agree), low=0.9, high=1.0, source=label),
    ]
    return checks


def cohort_checks(ms: list[SliceMeasurement]) -> list[Check]:
    """Every phantom check from the per-slice measurements of a dataset."""
    return (_geometry_checks(ms) + _function_checks(ms) + _contrast_checks(ms) + _scar_checks(ms)
            + _consistency_checks(ms))
