"""The import contract: pscgan's packages form layers that import one way, downwards.

Every ``import`` of every module under ``src/pscgan`` is read from its syntax tree, including imports
inside functions and ``if TYPE_CHECKING:`` blocks (an import hidden in a function still ties two packages
together, and is how the cycles this test now forbids were once hidden). A module may import its own
package, and any package of a lower layer; never a package of a higher layer, and never a sibling of its
own layer (siblings are independent of each other).

The layers, top to bottom:

====  ===============================================  ==============================================
 1    ``__main__``, ``train``                          ``python -m pscgan``; ``python -m pscgan.train``
 2    ``cli``                                          the command line
 3    ``experiments``                                  ablation and cross-validation runs
 4    ``report``, ``baselines``                        HTML reports; the baseline networks
 5    ``inference``                                    prediction of the cascade
 6    ``anatomy``                                      the anatomy network (LV detector)
 7    ``training``, ``phantom``, ``bench``             training; numerical phantom; benchmarks
 8    ``evaluation``, ``losses``                       metrics and tables; loss terms
 9    ``models``, ``clinical``                         networks and their weights file; clinical
10    ``geometry``                                     LV geometry (AHA segments, polar grids)
11    ``data.cache``, ``data.protocol``                training cache; configuration -> options
12    ``config``                                       run configuration, presets
13    ``preprocessing``                                images -> network inputs
14    ``data``                                         dataset and prediction-folder layouts
15    ``io``, ``ui``, ``labels``                       files; console and progress; label values
16    ``errors``, ``migrations``, ``pscgan``           (the root package: ``__version__``); reading what
                                                     an older pscgan wrote
====  ===============================================  ==============================================

``data`` is split on purpose: its layouts (``data.layout``, ``data.predictions``, ``data.annotation``) are
read by preprocessing, while the training cache and the protocol that turns a configuration into
preprocessing options run preprocessing.

``migrations`` is at the bottom because every reader of a stored format calls it, ``io`` (output
folders) and ``config`` included; it works on plain JSON values and imports no pscgan module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: list[tuple[str, ...]] = [
    ("__main__", "train"),
    ("cli",),
    ("experiments",),
    ("report", "baselines"),
    ("inference",),
    ("anatomy",),
    ("training", "phantom", "bench"),
    ("evaluation", "losses"),
    ("models", "clinical"),
    ("geometry",),
    ("data.cache", "data.protocol"),
    ("config",),
    ("preprocessing",),
    ("data",),
    ("io", "ui", "labels"),
    ("errors", "migrations", ""),
]


def _component(module: str) -> str:
    """The layer component of a dotted module name below ``pscgan``: the longest listed prefix."""
    rest = module.split(".")[1:]
    for n in (2, 1):
        name = ".".join(rest[:n])
        if len(rest) >= n and any(name in layer for layer in LAYERS):
            return name
    return ""


def _rank(component: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if component in layer)


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every pscgan import of ``path``, wherever it stands in the file."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pscgan import x`: x may be a subpackage or module
            found += [(node.lineno, f"{target}.{a.name}" if (SRC / target.replace(".", "/") / a.name).exists()
                       or (SRC / target.replace(".", "/") / f"{a.name}.py").exists() else target)
                      for a in node.names]
    return [(line, name) for line, name in found if name == "pscgan" or name.startswith("pscgan.")]


def _violations() -> list[str]:
    problems = []
    for path in sorted((SRC / "pscgan").rglob("*.py")):
        source = _module_name(path)
        here = _component(source)
        for line, target in sorted(set(_imports(path))):
            there = _component(target)
            if there == here:
                continue
            if _rank(there) <= _rank(here):  # rank 0 is the top layer
                kind = "upward" if _rank(there) < _rank(here) else "sibling"
                problems.append(f"{path.relative_to(SRC)}:{line}: {kind} import of {target} "
                                f"({here or 'pscgan'} may not import {there or 'pscgan'})")
    return problems


def test_every_package_has_a_layer() -> None:
    names = {
        p.name.removesuffix(".py")
        for p in (SRC / "pscgan").iterdir()
        if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")
    }
    # the phantom package has no __init__ (a namespace package); weights/ holds data only
    names |= {"phantom"}
    listed = {c for layer in LAYERS for c in layer}
    assert names - listed == set(), "give every new package or top-level module a layer here"


def test_imports_run_downwards() -> None:
    problems = _violations()
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


@pytest.mark.parametrize(("source", "target", "allowed"), [
    ("pscgan.inference.batch", "pscgan.cli._common", False),
    ("pscgan.evaluation.pairing", "pscgan.inference.outputs", False),
    ("pscgan.training.launch", "pscgan.inference", False),
    ("pscgan.report.build", "pscgan.baselines", False),
    ("pscgan.data.layout", "pscgan.preprocessing.pipeline", False),
    ("pscgan.data.cache", "pscgan.preprocessing.pipeline", True),
    ("pscgan.inference.predictor", "pscgan.anatomy.model", True),
    ("pscgan.anatomy.train", "pscgan.training.checkpoint", True),
])
def test_the_contract_reads_components(source: str, target: str, allowed: bool) -> None:
    a, b = _rank(_component(source)), _rank(_component(target))
    assert (a < b) is allowed  # rank 0 is the top layer
