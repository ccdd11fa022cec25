"""Human-readable forms of a phantom validation report: Markdown file and rich table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pscgan.io.atomic import write_text_atomic
from pscgan.phantom.validation_checks import Check, Status

if TYPE_CHECKING:
    from rich.console import JustifyMethod

    from pscgan.phantom.validation import ValidationReport

_GROUP_TITLES = {"geometry": "Geometry", "function": "Function", "contrast": "Contrast", "scar": "Scar",
                 "consistency": "Consistency with the recorded truth",
                 "reference": "LGE histograms vs real cases"}


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _value_text(c: Check) -> str:
    return f"{_fmt(c.value)} {c.unit}".strip() if c.value is not None else "-"


def _row(c: Check) -> list[str]:
    spread = c.spread_text()
    note = "; ".join(x for x in (spread, c.note) if x)
    return [c.description, _value_text(c), c.range_text(), c.rule.value, c.status.value,
            str(c.n), c.source, note]


def markdown(report: ValidationReport) -> str:
    """The report as Markdown: summary, one table per group, thickening groups, LGE comparison, notes."""
    doc = report.to_json()
    lines = ["# Phantom validation", "",
             f"Dataset `{report.dataset.name}`: {doc['n_subjects']} subjects "
             f"({doc['n_normal_subjects']} normal), {doc['n_slices']} slices. {doc['n_checks']} checks, "
             f"**{doc['n_failed']} outside their range**.", "",
             "Produced by `pscgan phantom validate`; every number is measured from the written images and "
             "label maps (the recorded truth is used only in the consistency section).", ""]
    header = ["quantity", "measured", "expected", "rule", "status", "n", "source", "spread / notes"]
    for group, title in _GROUP_TITLES.items():
        checks = [c for c in report.checks if c.group == group]
        if not checks:
            continue
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for c in checks:
            row = _row(c)
            if c.status is Status.FAIL:
                row[4] = "**FAIL**"
            lines.append("| " + " | ".join(x.replace("|", "/") for x in row) + " |")
        lines.append("")
    lines += ["## Systolic wall thickening by segment group", "", "| group | segments | median | IQR |",
              "|---|---|---|---|"]
    for g, s in doc["thickening_groups"].items():
        lines.append(f"| {g} | {s['n']} | {100 * s['median']:.1f} % | "
                     f"{100 * s['q1']:.1f} - {100 * s['q3']:.1f} % |")
    lines.append("")
    if report.lge_comparison:
        lines += ["## LGE intensity per tissue (per slice: myocardium median 0, blood-pool median 1)", "",
                  f"Reference cases: {', '.join(report.lge_comparison['cases'])}.", "",
                  "| tissue | phantom median | reference median | W1 phantom vs reference "
                  "| W1 between reference cases |",
                  "|---|---|---|---|---|"]
        for name, t in report.lge_comparison["tissues"].items():
            lines.append(f"| {name} | {_fmt(t['phantom_median'])} | {_fmt(t['reference_median'])} | "
                         f"{_fmt(t['wasserstein_phantom_vs_reference'])} | "
                         f"{_fmt(t['wasserstein_between_reference_cases'])} |")
        lines.append("")
    lines += ["## Notes", ""] + [f"- {n}" for n in doc["notes"]] + [""]
    lines += ["## Figures", "", "- `cases.png`: cine ED, cine ES, LGE, labels over LGE",
              "- `thickening.png`: thickening by segment group and against transmurality",
              "- `lge_histograms.png`: LGE intensity distributions per tissue", ""]
    return "\n".join(lines)


def write_markdown(report: ValidationReport, path: Path) -> None:
    """Write :func:`markdown` atomically."""
    write_text_atomic(path, markdown(report))


def rich_table(report: ValidationReport) -> Any:
    """A compact :class:`rich.table.Table` of the checks by key (failed rows in red); the full descriptions,
    sources and notes are in ``validation.md``."""
    from rich.table import Table

    table = Table(title=f"Phantom validation: {report.dataset.name}",
                  caption="descriptions and sources: validation.md")
    table.add_column("check", no_wrap=True)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("measured", "right"), ("expected", "left"), ("status", "left"), ("n", "right"))
    for col, justify in columns:
        table.add_column(col, justify=justify, overflow="fold")
    styles = {Status.PASS: "green", Status.FAIL: "bold red", Status.INFO: "cyan", Status.NO_DATA: "dim"}
    group = None
    for c in report.checks:
        if c.group != group:
            group = c.group
            table.add_row(f"[bold]{group.capitalize()}[/]")
        status = f"[{styles[c.status]}]{c.status.value}[/]"
        table.add_row(f"  {c.key}", _value_text(c), c.range_text(), status, str(c.n))
    return table
