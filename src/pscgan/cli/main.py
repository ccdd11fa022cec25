"""Root of the ``pscgan`` command line.

Example:
    >>> from typer.testing import CliRunner
    >>> result = CliRunner().invoke(app, ["--version"])
    >>> result.output.strip().startswith("pscgan ")
    True
"""

from __future__ import annotations

import typer

from pscgan import __version__
from pscgan.cli import anatomy as _anatomy
from pscgan.cli import bench as _bench
from pscgan.cli import data as _data
from pscgan.cli import demo as _demo
from pscgan.cli import evaluate as _evaluate
from pscgan.cli import experiment as _experiment
from pscgan.cli import export as _export
from pscgan.cli import phantom as _phantom
from pscgan.cli import predict as _predict
from pscgan.cli import quantify as _quantify
from pscgan.cli import report as _report
from pscgan.cli import train as _train

app = typer.Typer(
    name="pscgan",
    no_args_is_help=True,
    add_completion=False,
    help="Contrast-agent-free LGE synthesis and scar segmentation from cine MRI (PSCGAN).",
    pretty_exceptions_show_locals=False,
)
app.add_typer(_phantom.app, name="phantom")
app.add_typer(_data.app, name="data")
app.add_typer(_bench.app, name="bench")
app.add_typer(_anatomy.app, name="anatomy")
app.command("demo")(_demo.demo)
app.command("quantify")(_quantify.quantify)
app.command("train")(_train.train)
app.command("predict")(_predict.predict)
app.command("evaluate")(_evaluate.evaluate)
app.command("export")(_export.export)
app.command("report")(_report.report)
app.command("experiment")(_experiment.experiment)
app.command("cv")(_experiment.cv)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pscgan {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Contrast-agent-free LGE synthesis and scar segmentation from cine MRI (PSCGAN)."""


if __name__ == "__main__":  # pragma: no cover
    app()
