"""Export a trained cascade (all three generators) as one ONNX inference graph, checked against PyTorch.

The graph reads ``cine`` (B, 1, T, H, W) float32 in [-1, 1] and returns ``coarse_mask_logits``
(B, classes, H, W), ``lge`` (B, 1, H, W) and ``mask_logits`` (B, classes, H, W) -- exactly
:meth:`pscgan.models.cascade.Cascade.forward` (a joint, non-progressive model has no coarse mask, so
its graph has the last two outputs only). The batch axis is dynamic by default. The run
configuration (JSON), the pscgan version and the checksum of the source weights are stored in the
model's ``metadata_props``, so an ONNX file can always be traced to the network and weights it came from.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``. The ``torch.export``-based
exporter (``dynamo=True``) cannot export the ``cpu`` preset with a dynamic batch: the attention layers
choose between a plain and a fused kernel from the batch size (:func:`pscgan.models.attention.attention`),
a guard on the batch dimension that ``torch.export`` refuses; it is also several times slower on the
tiny network. Tracing records the branch taken for the example batch; both branches compute the
same ``softmax(q k^T) v``, and the check below runs batches other than the traced one.

Check: the exported bytes are run by onnxruntime (CPUExecutionProvider) and the PyTorch cascade on the
same seeded random cines (batch 1, and batch 3 when the batch axis is dynamic); every output's largest
absolute difference must be within ``atol`` and the argmax of both mask outputs must agree on at least
99.9 % of pixels. Only a model that passed is written (atomically); a failed check writes nothing.

Limits: one ONNX file holds at most 2 GiB (protobuf), so the ``paper`` preset (about 3 GB of generator
weights, dominated by the dense bottleneck) is refused. The graph computes attention as MatMul +
Softmax, through the full score matrix: full attention over a block's T*h*w tokens needs (T*h*w)^2
floats per slice at run time (PyTorch's fused kernel avoids that; ONNX runtimes do not).

Example:
    >>> import tempfile, pathlib
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.weights import save_weights
    >>> from pscgan.models.factory import build_cascade
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cfg = get_preset("tiny")
    >>> save_weights(d / "w.safetensors", build_cascade(cfg), cfg)
    >>> report = export_onnx(d / "w.safetensors", d / "pscgan.onnx")
    >>> report.passed, report.max_abs_diff < 1e-4
    (True, True)
    >>> read_onnx_metadata(d / "pscgan.onnx")["pscgan_preset"]
    'tiny'
"""

from __future__ import annotations

import inspect
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pscgan.errors import OutputExistsError, PscganError
from pscgan.io.atomic import write_bytes_atomic
from pscgan.models.interfaces import COARSE_MASK_LOGITS, LGE, MASK_LOGITS

INPUT_NAME = "cine"
OUTPUT_NAMES = (COARSE_MASK_LOGITS, LGE, MASK_LOGITS)  # of the progressive cascade, in graph order
MASK_OUTPUTS = (COARSE_MASK_LOGITS, MASK_LOGITS)
# Opset 17 is run by every onnxruntime this project supports and by most other runtimes; 14 is the
# first with the attention export, 20 the highest the TorchScript-based exporter writes.
DEFAULT_OPSET = 17
MIN_OPSET, MAX_OPSET = 14, 20
MIN_ARGMAX_AGREEMENT = 0.999
CHECK_BATCHES = (1, 3)
CHECK_SEED = 0
# protobuf refuses to serialise a message over 2 GiB; keep headroom for the graph itself.
MAX_WEIGHT_BYTES = 2**31 - 2**26
INSTALL_HINT = 'pip install "pscgan[export]"'


class ExportError(PscganError):
    """The ONNX export could not be made, or the exported graph disagrees with PyTorch."""


@dataclass(frozen=True)
class OutputComparison:
    """onnxruntime vs PyTorch on one output for one batch size.

    Attributes:
        batch: batch size of the random cine.
        output: output name.
        max_abs_diff: largest absolute difference.
        max_abs_value: largest absolute PyTorch value (the scale to read the difference against).
        argmax_agreement: fraction of pixels whose argmax class agrees (mask outputs only, else None).
    """

    batch: int
    output: str
    max_abs_diff: float
    max_abs_value: float
    argmax_agreement: float | None


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_onnx` wrote and how the graph compared with PyTorch.

    Attributes:
        path: the ONNX file.
        preset: preset name of the weights' configuration.
        opset: ONNX opset of the graph.
        exporter: exporter and torch version.
        batch_dynamic: whether the batch axis is dynamic.
        size_bytes: file size.
        atol: tolerance of the check.
        comparisons: one row per (batch, output); empty if the check was skipped.
    """

    path: Path
    preset: str
    opset: int
    exporter: str
    batch_dynamic: bool
    size_bytes: int
    atol: float
    comparisons: tuple[OutputComparison, ...]

    @property
    def checked(self) -> bool:
        """Whether onnxruntime was compared with PyTorch."""
        return bool(self.comparisons)

    @property
    def max_abs_diff(self) -> float | None:
        """Largest difference over every output and batch (None if unchecked)."""
        return max((c.max_abs_diff for c in self.comparisons), default=None)

    @property
    def passed(self) -> bool:
        """Every difference within ``atol`` and every mask argmax agreement >= 99.9 % (False if unchecked)."""
        return self.checked and all(_row_passes(c, self.atol) for c in self.comparisons)


def _row_passes(row: OutputComparison, atol: float) -> bool:
    agree = row.argmax_agreement is None or row.argmax_agreement >= MIN_ARGMAX_AGREEMENT
    return row.max_abs_diff <= atol and agree


def require_export_dependencies(*, runtime: bool = True) -> None:
    """Raise :class:`ExportError` with the install command if ``onnx`` (or ``onnxruntime``) is missing."""
    names = ("onnx", "onnxruntime") if runtime else ("onnx",)
    missing = []
    for name in names:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise ExportError(None, f"ONNX export needs the optional package(s) {', '.join(missing)}: "
                                f"{INSTALL_HINT}")


def export_onnx(weights: Path, out: Path, *, batch_dynamic: bool = True, opset: int | None = None,
                check: bool = True, atol: float = 1e-4, overwrite: bool = False) -> ExportReport:
    """Export the cascade of a weights file as one ONNX graph and (by default) check it with onnxruntime.

    Args:
        weights: pscgan weights file (:func:`pscgan.models.weights.save_weights`).
        out: ONNX file to write.
        batch_dynamic: make the batch axis dynamic (otherwise the graph takes batch 1 only).
        opset: ONNX opset, 14-20 (default 17).
        check: compare onnxruntime with PyTorch before writing; a failure writes nothing.
        atol: largest absolute difference allowed on any output.
        overwrite: replace an existing ``out``.

    Returns:
        The report, with the comparison table when ``check`` is on.

    Raises:
        OutputExistsError: ``out`` exists and ``overwrite`` is off.
        InputError: the weights file is missing, corrupted or does not fit its configuration.
        ExportError: missing packages, unsupported opset or model size, or a failed check.
    """
    from pscgan.models.weights import load_weights, read_weights_metadata

    weights, out = Path(weights), Path(out)
    opset = DEFAULT_OPSET if opset is None else opset
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(None, f"opset {opset} is not supported; choose {MIN_OPSET}-{MAX_OPSET}")
    if atol < 0:
        raise ExportError(None, f"atol must be >= 0, got {atol}")
    if out.exists() and not overwrite:
        raise OutputExistsError(out, "exists; pass --overwrite to replace it")
    require_export_dependencies(runtime=check)
    cascade, config = load_weights(weights)
    weight_bytes = sum(t.numel() * t.element_size() for t in cascade.state_dict().values())
    if weight_bytes > MAX_WEIGHT_BYTES:
        raise ExportError(weights, f"the networks hold {weight_bytes / 2**30:.1f} GiB of weights; one ONNX "
                                   f"file holds at most 2 GiB (preset {config.preset!r} cannot be exported)")
    shape = (config.model.frames, config.model.image_size, config.model.image_size)
    data = _export_bytes(cascade, shape, opset=opset, batch_dynamic=batch_dynamic)
    data = _with_metadata(data, config.model_dump_json(), read_weights_metadata(weights).get("sha256", ""),
                          config.preset)
    comparisons: tuple[OutputComparison, ...] = ()
    if check:
        batches = CHECK_BATCHES if batch_dynamic else (1,)
        comparisons = compare_with_pytorch(data, cascade, shape, batches=batches)
        failed = [c for c in comparisons if not _row_passes(c, atol)]
        if failed:
            raise ExportError(out, "onnxruntime disagrees with PyTorch, nothing written: " + "; ".join(
                _describe(c) for c in failed) + f" (allowed: |diff| <= {atol:g}, argmax agreement >= "
                f"{MIN_ARGMAX_AGREEMENT:.1%})")
    write_bytes_atomic(out, data)
    return ExportReport(path=out, preset=config.preset, opset=opset, exporter=exporter_name(),
                        batch_dynamic=batch_dynamic, size_bytes=len(data), atol=atol, comparisons=comparisons)


def _describe(c: OutputComparison) -> str:
    agree = "" if c.argmax_agreement is None else f", argmax agreement {c.argmax_agreement:.4%}"
    return f"{c.output} at batch {c.batch}: max |diff| {c.max_abs_diff:.3g}{agree}"


def exporter_name() -> str:
    """The exporter this module uses, with the torch version."""
    return f"torch.onnx TorchScript exporter (torch {torch.__version__})"


def _export_bytes(cascade: torch.nn.Module, shape: tuple[int, int, int], *, opset: int,
                  batch_dynamic: bool) -> bytes:
    """Trace ``cascade`` on a batch-1 cine of ``shape`` (T, H, W) and return the serialised ONNX model."""
    example = random_cines(1, shape)
    with torch.no_grad():
        names = list(cascade.eval()(example))  # the traced dict's outputs, in this order
    axes = {name: {0: "batch"} for name in (INPUT_NAME, *names)} if batch_dynamic else None
    kwargs: dict[str, Any] = dict(input_names=[INPUT_NAME], output_names=names,
                                  opset_version=opset, dynamic_axes=axes, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:  # torch >= 2.5; the default from 2.9
        kwargs["dynamo"] = False
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        # The legacy exporter's deprecation notice, tracer notes about the models' Python-side shape
        # checks and constant-folding notes are expected here; the check is what validates the graph.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Constant folding", category=UserWarning)
        try:
            # the TorchScript exporter writes to a file object too; torch's stub names only paths
            torch.onnx.export(cascade.eval(), (example,), buffer, **kwargs)  # type: ignore[arg-type]
        except (RuntimeError, torch.onnx.errors.OnnxExporterError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(None, f"the exporter could not convert the networks at opset {opset}: "
                                    f"{first}") from exc
    return buffer.getvalue()


def _with_metadata(data: bytes, config_json: str, weights_sha256: str, preset: str) -> bytes:
    """Add provenance (metadata_props), descriptions and producer to a serialised model; validate it."""
    import onnx

    import pscgan

    model = onnx.load_model_from_string(data)
    onnx.helper.set_model_props(model, {
        "pscgan_version": pscgan.__version__,
        "pscgan_config": config_json,
        "pscgan_preset": preset,
        "pscgan_weights_sha256": weights_sha256,
        "exporter": exporter_name(),
    })
    model.producer_name, model.producer_version = "pscgan", pscgan.__version__
    model.doc_string = ("PSCGAN cascade: contrast-free cine -> coarse tissue mask -> synthetic LGE -> "
                        "tissue mask "
                        "(0 other, 1 LV blood pool, 2 healthy myocardium, 3 scar)")
    docs = {INPUT_NAME: "cine (B, 1, T, H, W) float32 in [-1, 1]",
            COARSE_MASK_LOGITS: "phase I tissue logits (B, classes, H, W)",
            LGE: "phase II synthetic LGE (B, 1, H, W) in [-1, 1]",
            MASK_LOGITS: "phase III tissue logits (B, classes, H, W); argmax over axis 1 is the segmentation"}
    for value in (*model.graph.input, *model.graph.output):
        value.doc_string = docs.get(value.name, "")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ExportError(None, f"the exported graph is not valid ONNX: {str(exc).splitlines()[0]}") from exc
    return model.SerializeToString()


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (pscgan version, config JSON, weights checksum, exporter)."""
    require_export_dependencies(runtime=False)
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (OSError, ValueError, DecodeError) as exc:
        raise ExportError(path, f"not a readable ONNX file ({exc})") from None
    return {p.key: p.value for p in model.metadata_props}


def random_cines(batch: int, shape: tuple[int, int, int], seed: int = CHECK_SEED) -> torch.Tensor:
    """Seeded uniform cines (batch, 1, T, H, W) in [-1, 1], the networks' input range."""
    generator = torch.Generator().manual_seed(seed + batch)
    return torch.rand((batch, 1, *shape), generator=generator) * 2 - 1


def compare_with_pytorch(model: bytes | str | Path, cascade: torch.nn.Module, shape: tuple[int, int, int], *,
                         batches: tuple[int, ...] = CHECK_BATCHES) -> tuple[OutputComparison, ...]:
    """Run an ONNX model (bytes or file) with onnxruntime and ``cascade`` with PyTorch on the same cines.

    Args:
        model: serialised ONNX model or its path.
        cascade: the PyTorch cascade it was exported from.
        shape: (T, H, W) of the cines.
        batches: batch sizes to run.

    Returns:
        One :class:`OutputComparison` per batch size and output.
    """
    run = _onnxruntime_runner(model)
    rows = []
    for batch in batches:
        cine = random_cines(batch, shape)
        with torch.no_grad():
            expected = {k: v.numpy() for k, v in cascade.eval()(cine).items()}
        got = run(cine.numpy())
        if set(got) != set(expected):
            raise ExportError(None, f"the graph's outputs {sorted(got)} differ from PyTorch's "
                                    f"{sorted(expected)}")
        for name, ref in expected.items():
            out = got[name]
            if out.shape != ref.shape:
                raise ExportError(None, f"onnxruntime returned {name} of shape {out.shape}, "
                                        f"PyTorch {ref.shape}")
            agree = float(np.mean(out.argmax(1) == ref.argmax(1))) if name in MASK_OUTPUTS else None
            rows.append(OutputComparison(batch, name, float(np.max(np.abs(out - ref))),
                                         float(np.max(np.abs(ref))), agree))
    return tuple(rows)


def _onnxruntime_runner(model: bytes | str | Path) -> Callable[[np.ndarray], dict[str, np.ndarray]]:
    """A CPU onnxruntime session of ``model`` as a function cine -> outputs by name."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()  # respect the user's thread budget
    source = model if isinstance(model, bytes) else str(model)
    # onnxruntime's errors (Fail, InvalidGraph, ...) share no narrower base class than Exception.
    try:
        session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ExportError(None, f"onnxruntime could not load the exported graph: {exc}") from exc
    names = [o.name for o in session.get_outputs()]

    def run(cine: np.ndarray) -> dict[str, np.ndarray]:
        try:
            outputs = session.run(names, {INPUT_NAME: cine.astype(np.float32)})
        except Exception as exc:
            raise ExportError(None, f"onnxruntime could not run the exported graph: {exc}") from exc
        return dict(zip(names, outputs, strict=True))

    return run
