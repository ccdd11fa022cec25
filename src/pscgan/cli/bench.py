"""``pscgan bench``: speed and memory benchmarks (results are written to files, never asserted in tests)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer

from pscgan.cli._common import handle_errors, output_file
from pscgan.ui import console

app = typer.Typer(no_args_is_help=True, help="Speed and memory benchmarks.")


@app.command("models")
@handle_errors
def models(
    preset: list[str] = typer.Option(["tiny", "cpu", "paper"], "--preset", "-p",
                                     help="Preset(s) to measure (repeat the option)."),
    overrides: list[str] = typer.Option([], "--set",
                                        help="Config override section.field=value applied to every preset, "
                                             "e.g. model.attention=factorised (repeatable)."),
    network: list[str] = typer.Option([], "--network", "-n",
                                      help="generator, discriminator, cascade or iteration (default: all)."),
    phase: list[str] = typer.Option([], "--phase",
                                    help="coarse, synthesis, segmentation or joint (default: all)."),
    threads: int = typer.Option(2, "--threads", min=1, help="torch threads of every measurement."),
    repeats: int = typer.Option(3, "--repeats", min=1, help="Timed repeats per pass (after one warm-up)."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the full result as JSON here."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing JSON file."),
    matmul_size: int = typer.Option(4096, "--matmul-size", min=64,
                                    help="Side of the reference float32 matmul."),
    kernels: bool = typer.Option(True, "--kernels/--no-kernels",
                                 help="Also time block 1's attention and convolution kernels (~10 s)."),
    params: bool = typer.Option(False, "--params",
                                help="Only print each preset's parameter table (Markdown)."),
) -> None:
    """Parameters, FLOPs, time, achieved FLOP/s and peak memory of every network, and the matmul rate."""
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.errors import ConfigError, OutputExistsError

    # validates preset names and overrides before anything runs
    configs = [apply_overrides(get_preset(p), overrides) for p in preset]
    if params:
        from pscgan.models.factory import format_parameter_table

        typer.echo("\n".join(format_parameter_table(c) for c in configs), nl=False)
        return
    if json_file is not None and json_file.exists() and not overwrite:
        raise OutputExistsError(json_file, "already exists; choose another file or pass --overwrite")
    if json_file is not None:  # checked before minutes of measuring, and never a user's other file
        output_file(json_file, ours=_bench_json)
    from pscgan.bench.models import format_table, phase_names, run_benchmark
    from pscgan.bench.workloads import NETWORKS

    bad = [n for n in network if n not in NETWORKS] + [p for p in phase if p not in phase_names()]
    if bad:
        raise ConfigError(None, f"unknown network or phase: {', '.join(bad)}")
    out = console()

    def show(entry: dict) -> None:
        for row in format_table({"entries": [entry]})[1:]:
            typer.echo("measured: " + "  ".join(row), err=True)

    command = None
    if sys.argv[1:2] == ["bench"]:
        command = "pscgan " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result = run_benchmark(preset, overrides=overrides, networks=network or None, phases=phase or None,
                           threads=threads, repeats=repeats, on_result=show, command=command,
                           matmul_size=matmul_size, kernels=kernels)
    _print_table(out, result)
    if json_file is not None:
        from pscgan.io.atomic import write_json_atomic

        write_json_atomic(json_file, result)
        out.print(f"wrote {json_file}", highlight=False)


def _bench_json(path: Path) -> bool:
    """Whether ``path`` is a result file of ``pscgan bench models`` (which ``--overwrite`` may replace)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "entries" in data


def _print_table(out, result: dict) -> None:  # noqa: ANN001 - rich console
    from pscgan.bench.models import format_table

    mm = result["matmul_gflops"]
    out.print(f"models benchmark, {result['threads']} threads; float32 matmul {mm['before']:.0f} GFLOP/s "
              f"before, {mm['after']:.0f} after", highlight=False)
    kern = result.get("kernels")
    if kern:
        att, conv = kern["attention"], kern["convolution"]
        out.print(f"block-1 attention ({att['tokens']} tokens): forward {att['forward_s']:.3f} s "
                  f"({att['forward_scores_per_s'] / 1e9:.2f} G scores/s), "
                  f"backward {att['backward_s']:.3f} s "
                  f"({att['backward_unsplit_s']:.3f} s without the query split); block-1 convolutions: "
                  f"3x3 {conv['spatial_3x3_gflops_per_s']:.0f}, "
                  f"(3,1) {conv['temporal_3x1_gflops_per_s']:.0f} GFLOP/s", highlight=False)
    rows = format_table(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = (c.ljust(w) if i < 5 else c.rjust(w) for i, (c, w) in pairs)
        out.print("  ".join(cells), highlight=False)
