from __future__ import annotations

from pscgan.bench.models import format_table, run_benchmark
from pscgan.bench.worker import measure
from pscgan.bench.workloads import NETWORKS, build_workload


def test_every_workload_runs_on_tiny(tiny):
    for network in NETWORKS:
        w = build_workload(tiny, network, "segmentation")
        if w.forward is not None:
            w.forward()
        if w.train_step is not None:
            w.train_step()
        assert w.parameters > 0


def test_measure_in_process():
    r = measure({"preset": "tiny", "overrides": ["model.attention=factorised"], "network": "iteration",
                 "phase": "synthesis", "mode": "train", "threads": 1, "repeats": 2})
    assert r["flops"] > 0 and len(r["seconds_all"]) == 2
    assert r["peak_rss_bytes"] >= r["baseline_rss_bytes"] > 0


def test_run_benchmark_records_matmul_rate_and_derived_rates():
    seen = []
    result = run_benchmark(["tiny"], networks=["generator"], phases=["coarse"], threads=1, repeats=1,
                           on_result=seen.append, command="pscgan bench models --preset tiny",
                           matmul_size=256, kernels=False)
    assert result["matmul_gflops"]["before"] > 0 and result["command"].startswith("pscgan bench")
    (entry,) = result["entries"]
    assert seen == [entry]
    for mode in ("forward", "train"):
        r = entry[mode]
        assert "error" not in r, r
        assert r["gflops_per_s"] == r["flops"] / r["seconds"] / 1e9
        assert 0 < r["fraction_of_matmul"] and r["peak_rss_gib"] > 0
    rows = format_table(result)
    assert rows[0][0] == "preset" and len(rows) == 3


def test_failed_measurement_is_reported_not_raised():
    from pscgan.bench.models import run_worker

    r = run_worker({"preset": "tiny", "network": "generator", "phase": "nope", "mode": "forward",
                    "threads": 1, "repeats": 1}, timeout=120)
    assert "error" in r and "nope" in r["error"]


def test_kernel_timings_are_recorded():
    from pscgan.bench.kernels import attention_timings, convolution_timings

    att = attention_timings(threads=1, tokens=600, repeats=1)
    assert att["scores"] == 360_000 and att["forward_s"] > 0 and att["forward_backward_unsplit_s"] > 0
    conv = convolution_timings(threads=1, channels=4, frames=2, size=8, repeats=1)
    assert conv["spatial_3x3_gflops_per_s"] > 0 and conv["temporal_3x1_gflops_per_s"] > 0


def test_flops_of_a_pass_that_cannot_run_on_meta_are_counted_on_the_device():
    # the Dice term (MONAI DiceLoss) reads data on the meta device; the cpu preset's phases I and III use it
    r = measure({"preset": "tiny", "overrides": ["loss.segmentation_dice_weight=1"], "network": "iteration",
                 "phase": "coarse", "mode": "train", "threads": 1, "repeats": 1})
    assert r["flops"] > 0 and r["seconds"] > 0
