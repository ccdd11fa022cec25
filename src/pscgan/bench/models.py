"""The models benchmark: parameters, FLOPs, time, achieved FLOP/s and peak memory of every network.

For each preset, and for each phase, it measures the generator and discriminator (forward pass and
one Adam training step), one training iteration (``d_steps_per_g_step`` discriminator steps + one
generator step, see :mod:`pscgan.bench.workloads`), and the inference cascade. Every measurement
runs in its own interpreter (:mod:`pscgan.bench.worker`) so peak resident memory is not mixed between
networks. In the same run it times a large float32 matrix multiply on the same number of threads,
before and after (in fresh interpreters too), so achieved FLOP/s can be read against what the
machine delivered at the time.

FLOPs are the model's own matmul and convolution work (forward; forward + backward for training),
counted by torch's ``FlopCounterMode`` on the meta device; zero padding inside the fused attention
kernel and element-wise work are not counted.

Example:
    >>> result = run_benchmark(["tiny"], networks=["discriminator"], phases=["coarse"], repeats=1,
    ...                        matmul_size=256, kernels=False)
    >>> entry = result["entries"][0]
    >>> entry["network"], entry["forward"]["flops"] > 0
    ('discriminator', True)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pscgan.bench.workloads import NETWORKS
from pscgan.models.phase import Phase, phases_for

MODES = {"generator": ("forward", "train"), "discriminator": ("forward", "train"), "cascade": ("forward",),
         "iteration": ("train",)}
GIB = 2 ** 30


def machine_info() -> dict[str, Any]:
    """CPU model, core count, torch version and CPU capability, for the record."""
    import torch

    model = platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), model)
    except OSError:
        pass
    return {"cpu": model, "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability()}


def run_worker(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; failures come back as ``{"error": ...}``."""
    env = dict(os.environ, OMP_NUM_THREADS=str(spec["threads"]), MKL_NUM_THREADS=str(spec["threads"]))
    try:
        proc = subprocess.run([sys.executable, "-m", "pscgan.bench.worker", json.dumps(spec)],
                              capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit code {proc.returncode}: {tail}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _entry_phases(network: str, preset_phases: Sequence[Phase],
                  wanted: Sequence[str] | None) -> list[str | None]:
    if network == "cascade":
        return [None]
    return [p.value for p in preset_phases if wanted is None or p.value in wanted]


def run_benchmark(presets: Sequence[str], *, overrides: Sequence[str] = (),
                  networks: Sequence[str] | None = None, phases: Sequence[str] | None = None,
                  threads: int = 2, repeats: int = 3, timeout: float = 1800.0,
                  on_result: Callable[[dict[str, Any]], None] | None = None,
                  command: str | None = None, matmul_size: int = 4096,
                  kernels: bool = True) -> dict[str, Any]:
    """Measure every requested network of every preset; returns the JSON-ready result.

    Args:
        presets: preset names.
        overrides: ``section.field=value`` changes applied to every preset
            (e.g. ``model.attention=factorised``).
        networks: subset of :data:`~pscgan.bench.workloads.NETWORKS` (default: all).
        phases: subset of phase names (default: every phase of the preset).
        threads: torch threads of every measurement (and of the matrix-multiply reference).
        repeats: timed repeats per pass (after one warm-up).
        timeout: seconds allowed per measurement.
        on_result: called with each finished entry (progress display).
        command: the command line that ran the benchmark, recorded in the result.
        matmul_size: side of the reference float32 matrix multiply.
        kernels: also time the first block's attention and convolution kernels
            (:mod:`pscgan.bench.kernels`, about 10 s).
    """
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides

    networks = list(networks or NETWORKS)
    unknown = sorted(set(networks) - set(NETWORKS))
    if unknown:
        raise ValueError(f"unknown network(s) {', '.join(unknown)}; choose from {', '.join(NETWORKS)}")
    before = run_worker({"mode": "reference", "threads": threads, "matmul_size": matmul_size,
                         "kernels": kernels}, timeout)
    _check_reference(before)
    matmul_before = before["matmul_gflops"]
    entries = []
    for preset in presets:
        config = apply_overrides(get_preset(preset), list(overrides))
        preset_phases = phases_for(progressive=config.model.progressive)
        for network in networks:
            for phase in _entry_phases(network, preset_phases, phases):
                entry: dict[str, Any] = {"preset": preset, "overrides": list(overrides), "network": network,
                                         "phase": phase, "batch_size": config.train.batch_size}
                for mode in MODES[network]:
                    spec = {"preset": preset, "overrides": list(overrides), "network": network,
                            "phase": phase, "mode": mode, "threads": threads, "repeats": repeats}
                    entry[mode] = run_worker(spec, timeout)
                    _derive(entry[mode], matmul_before)  # provisional, for progress display
                entry["parameters"] = next((entry[m]["parameters"] for m in MODES[network]
                                            if "parameters" in entry[m]), None)
                entries.append(entry)
                if on_result is not None:
                    on_result(entry)
    after = run_worker({"mode": "reference", "threads": threads, "matmul_size": matmul_size}, timeout)
    _check_reference(after)
    matmul_after = after["matmul_gflops"]
    reference = (matmul_before + matmul_after) / 2
    for entry in entries:
        for mode in MODES[entry["network"]]:
            _derive(entry[mode], reference)
    return {"command": command, "machine": machine_info(), "threads": threads, "repeats": repeats,
            "matmul_gflops": {"before": matmul_before, "after": matmul_after, "reference": reference,
                              "size": matmul_size},
            "kernels": before.get("kernels"),
            "entries": entries}


def _check_reference(result: dict[str, Any]) -> None:
    if "error" in result:
        raise RuntimeError(f"reference measurement failed: {result['error']}")


def _derive(result: dict[str, Any], matmul_gflops: float) -> None:
    if "seconds" not in result:
        return
    result["gflops_per_s"] = result["flops"] / result["seconds"] / 1e9
    result["fraction_of_matmul"] = result["gflops_per_s"] / matmul_gflops
    result["peak_rss_gib"] = result["peak_rss_bytes"] / GIB


def format_table(result: dict[str, Any]) -> list[list[str]]:
    """Rows (header first) of the human-readable table."""
    header = ["preset", "network", "phase", "params", "pass", "GFLOP", "seconds", "GFLOP/s", "% matmul",
              "peak GiB"]
    rows = [header]
    for e in result["entries"]:
        for mode in MODES[e["network"]]:
            r = e.get(mode, {})
            base = [e["preset"], e["network"], e["phase"] or "-", f"{e['parameters'] or 0:,}", mode]
            if "error" in r or "seconds" not in r:
                rows.append(base + ["-", "-", "-", "-", r.get("error", "missing")])
                continue
            rows.append(base + [f"{r['flops'] / 1e9:.2f}", f"{r['seconds']:.3f}", f"{r['gflops_per_s']:.1f}",
                                f"{100 * r['fraction_of_matmul']:.0f}%", f"{r['peak_rss_gib']:.2f}"])
    return rows


def phase_names() -> list[str]:
    """All phase names a benchmark may select."""
    return [p.value for p in Phase]
