"""One benchmark measurement, run in a fresh interpreter so peak memory belongs to this pass alone.

Invoked by :mod:`pscgan.bench.models` as ``python -m pscgan.bench.worker '<json spec>'``; prints one
JSON line. The spec names a preset (plus ``section.field=value`` overrides), a network, a phase, a
mode (``forward`` or ``train``), the thread count and the number of timed repeats; or mode
``reference``: the matrix-multiply rate and the kernel timings of :mod:`pscgan.bench.kernels`. The
parent process runs no torch computation itself, so idle OpenMP threads of its own cannot steal a
core from the measurement.

FLOPs are counted first, on the meta device (no memory, no compute; during the warm-up pass instead
where an op needs real data); then the pass runs once to warm
up (allocations, optimiser state) and ``repeats`` more times, timed; the median is reported with all
times. Peak resident memory is ``ru_maxrss`` at the end; the resident memory right after importing
torch is reported beside it.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time
from typing import Any


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the measurement described by ``spec`` in this process and return its result."""
    import torch

    from pscgan.bench.workloads import build_workload
    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.models.flops import count_flops

    torch.set_num_threads(spec["threads"])
    if spec["mode"] == "reference":
        return _reference(spec)
    baseline = _rss_bytes()
    config = apply_overrides(get_preset(spec["preset"]), spec.get("overrides", []))
    torch.manual_seed(0)
    flops: int | None
    with torch.device("meta"):
        meta = build_workload(config, spec["network"], spec["phase"], optimise=False)
        meta_fn = meta.forward if spec["mode"] == "forward" else meta.train_step
        if meta_fn is None:
            raise ValueError(f"{spec['network']} has no {spec['mode']} pass to time")
        try:
            flops = count_flops(meta_fn)
        except NotImplementedError:
            # an op that reads tensor data (MONAI's Dice loss builds its reduction axes with
            # torch.arange(...).tolist()) cannot run on meta: count during the warm-up pass instead
            flops = None
    del meta, meta_fn
    work = build_workload(config, spec["network"], spec["phase"])
    fn = work.forward if spec["mode"] == "forward" else work.train_step
    assert fn is not None  # as the meta workload's
    if flops is None:
        flops = count_flops(fn)
    else:
        fn()
    times = []
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"parameters": work.parameters, "flops": flops, "seconds": statistics.median(times),
            "seconds_all": times, "peak_rss_bytes": _rss_bytes(), "baseline_rss_bytes": baseline}


def _reference(spec: dict[str, Any]) -> dict[str, Any]:
    from pscgan.bench.kernels import attention_timings, convolution_timings, matmul_gflops

    threads = spec["threads"]
    out: dict[str, Any] = {"matmul_gflops": matmul_gflops(threads, spec.get("matmul_size", 4096))}
    if spec.get("kernels", False):
        out["kernels"] = {"attention": attention_timings(threads),
                          "convolution": convolution_timings(threads)}
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    print(json.dumps(measure(spec)), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
