"""The cache file format: safetensors-compatible, memory-mapped, corruption detected."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pscgan.data.cache import CACHE_FORMAT, CACHE_VERSION, TrainingCache, _ArraySpool, write_packed
from pscgan.errors import InputError


def _packed(tmp_path, n=3):
    rng = np.random.default_rng(0)
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    cine = rng.random((n, 25, 8, 8), dtype=np.float32)
    labels = rng.integers(0, 4, (n, 8, 8)).astype(np.uint8)
    spools = {"cine": _ArraySpool(spool_dir, "cine", np.float32, (25, 8, 8)),
              "lge": _ArraySpool(spool_dir, "lge", np.float32, (8, 8)),
              "labels": _ArraySpool(spool_dir, "labels", np.uint8, (8, 8)),
              "has_lge": _ArraySpool(spool_dir, "has_lge", np.uint8, ()),
              "has_labels": _ArraySpool(spool_dir, "has_labels", np.uint8, ()),
              "spacing": _ArraySpool(spool_dir, "spacing", np.float32, (2,))}
    for i in range(n):
        spools["cine"].append(cine[i])
        spools["lge"].append(cine[i, 0])
        spools["labels"].append(labels[i])
        spools["has_lge"].append(np.uint8(i != 1))
        spools["has_labels"].append(np.uint8(1))
        spools["spacing"].append(np.array([1.5, 1.4], np.float32))
    for s in spools.values():
        s.close()
    index = [
        {"subject_id": f"s{i // 2}", "slice_index": i % 2, "level": "mid", "rv_insertion_angle_deg": 120.0}
        for i in range(n)
    ]
    meta = {"format": CACHE_FORMAT, "version": str(CACHE_VERSION), "fingerprint": "f", "options": "{}",
            "index": json.dumps(index), "records": "[]"}
    path = tmp_path / "cache.safetensors"
    write_packed(path, list(spools.values()), meta)
    return path, cine, labels


def test_round_trip_memory_mapped(tmp_path):
    path, cine, labels = _packed(tmp_path)
    cache = TrainingCache(path)
    assert len(cache) == 3
    assert isinstance(cache.arrays["cine"], np.memmap)
    s = cache[2]
    np.testing.assert_array_equal(s["cine"], cine[2])
    np.testing.assert_array_equal(s["labels"], labels[2])
    assert s["spacing_mm"] == pytest.approx((1.5, 1.4))
    assert cache[1]["lge"] is None
    assert cache.indices_of(["s0"]) == [0, 1]


def test_file_is_standard_safetensors(tmp_path):
    from safetensors.numpy import load_file

    path, cine, labels = _packed(tmp_path)
    loaded = load_file(str(path))
    np.testing.assert_array_equal(loaded["cine"], cine)
    np.testing.assert_array_equal(loaded["labels"], labels)


def test_truncated_cache_is_detected(tmp_path):
    path, *_ = _packed(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(InputError, match="truncated or corrupt"):
        TrainingCache(path)
    path.write_bytes(b"\x00\x01")
    with pytest.raises(InputError, match="truncated"):
        TrainingCache(path)
    path.write_bytes((10**12).to_bytes(8, "little") + b"{}")
    with pytest.raises(InputError, match="header length"):
        TrainingCache(path)


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "weights.safetensors"
    save_file({"w": np.zeros(3, np.float32)}, str(path))
    with pytest.raises(InputError, match="not a pscgan training cache"):
        TrainingCache(path)


def _rewrite(path, header):  # noqa: ANN001, ANN202 - a cache file and its new header
    import struct

    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    body = data[8 + n:]
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


def test_every_field_of_a_cache_header(tmp_path, fuzz_cases):
    """A cache lives in the dataset a user hands over: every field of its header (array specs and the
    metadata's index, options, version) set to another type, a NaN, a huge or negative number, or removed,
    opens or is refused with InputError (which makes ensure_cache rebuild it), never another exception."""
    import copy
    import struct

    path, *_ = _packed(tmp_path)
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header["__metadata__"]["index"] = json.loads(header["__metadata__"]["index"])
    cases = 0
    paths = [(k, f) for k, spec in header.items() for f in spec] + [("__metadata__", f) for f in ("index",)]
    index_fields = list(header["__metadata__"]["index"][0])
    for outer, field in paths + [("index", f) for f in index_fields]:
        for value in (float("nan"), 1e308, 10**40, -7, "x", None, [], {}, "MISSING"):
            edited = copy.deepcopy(header)
            node = edited["__metadata__"]["index"][0] if outer == "index" else edited[outer]
            if value == "MISSING":
                node.pop(field, None)
            else:
                node[field] = value
            meta = edited["__metadata__"]
            if isinstance(meta.get("index"), list):
                meta["index"] = json.dumps(meta["index"])
            path.write_bytes(data)
            _rewrite(path, edited)
            with fuzz_cases.watchdog(f"cache header {outer}.{field}"):
                try:
                    TrainingCache(path)
                except InputError as exc:
                    assert str(path) in str(exc)
            cases += 1
    for text in ("[" * 100_000, "[]", '{"__metadata__": []}'):
        _rewrite(path, text)
        with fuzz_cases.watchdog("cache header"), pytest.raises(InputError):
            TrainingCache(path)
    assert cases > 50
