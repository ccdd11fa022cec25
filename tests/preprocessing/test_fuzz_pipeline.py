"""Fuzzed preprocessing: random volumes, geometry, timing and options give slices or an InputError.

Cine, LGE and label volumes of random small shapes (one pixel wide to 40, 1-3 slices, 1-9 phases), values
(a beating ring, noise, constants, NaN/inf, 1e30, integers), voxel sizes (incl. zero, negative, NaN),
affines (incl. singular or NaN), trigger times and RR intervals (incl. wrong length, decreasing, NaN,
negative) and preprocessing options go through :func:`prepare_arrays`, half of them written to NIfTI and
read back with :func:`read_image` first. Every case ends in prepared slices that satisfy the data contract
or in a :class:`~pscgan.errors.PscganError` naming the input file (a ConfigError for invalid options).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pscgan.errors import ConfigError, PscganError
from pscgan.io.image import ImageVolume
from pscgan.io.nifti import write_nifti
from pscgan.io.reader import read_image
from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_arrays

FUZZ = settings.get_profile("fuzz")
# nibabel, pydicom, numpy and scikit-image warn about the hostile inputs on their way to an answer.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::RuntimeWarning")


def fill(shape: tuple[int, ...], content: str, seed: int) -> np.ndarray:
    """``(x, y, slice[, time])`` values: a beating disc on a background, noise, a constant, NaN/inf, ..."""
    rng = np.random.default_rng(seed)
    x, y = np.indices(shape[:2], dtype=np.float64)
    r = np.hypot(x - shape[0] / 2, y - shape[1] / 2)
    n_t = shape[3] if len(shape) == 4 else 1
    frames = [np.where(r < max(shape[:2]) / 4 * (1 - 0.3 * np.sin(np.pi * t / n_t) ** 2), 300.0, 40.0)
              for t in range(n_t)]
    ring = np.stack(frames, axis=-1)[:, :, None, :]
    out = np.broadcast_to(ring, shape[:3] + (n_t,)).copy() + rng.normal(0.0, 5.0, shape[:3] + (n_t,))
    out = out if len(shape) == 4 else out[..., 0]
    if content == "noise":
        out = rng.normal(0.0, 1.0, shape)
    elif content == "constant":
        out = np.full(shape, 5.0)
    elif content in ("nan", "inf"):
        out.flat[rng.integers(0, out.size)] = np.nan if content == "nan" else np.inf
    elif content == "huge":
        out = out * 1e30
    elif content == "int16":
        return out.astype(np.int16)
    return out.astype(np.float32)


@st.composite
def affines(draw: st.DrawFn, spacing: tuple[float, float, float], *, hostile: bool) -> np.ndarray | None:
    """None (the diagonal default), a rotated affine, or with ``hostile`` a singular or NaN one."""
    kind = draw(st.sampled_from(["singular", "nan"] if hostile else ["default", "rotated"]))
    if kind == "default":
        return None
    aff = np.diag([*spacing, 1.0])
    if kind == "rotated":
        c, s = np.cos(0.3), np.sin(0.3)
        aff[:2, :2] = np.array([[c, -s], [s, c]]) @ np.diag(spacing[:2])
    elif kind == "singular":
        aff[:3, 1] = aff[:3, 0]
    else:
        aff[0, 3] = np.nan
    return aff


#: Faults a recipe may carry (none, one or two): hostile values of one aspect, the rest stays plausible.
FAULTS = ["odd-spacing", "tiny-spacing", "huge-spacing", "odd-affine", "nan-cine", "inf-cine",
          "constant-cine", "huge-cine", "int-cine", "noise-cine", "one-phase", "one-pixel", "bad-triggers",
          "bad-rr", "bad-ed",
          "lge-other-slices", "lge-4d", "lge-constant", "lge-nan", "lge-other-grid", "labels-emidec",
          "labels-negative", "labels-float", "labels-nan", "labels-background", "bad-option"]


@st.composite
def subjects(draw: st.DrawFn) -> dict:
    """The recipe of one subject's volumes, timing and options, with up to two faults."""
    faults = set(draw(st.lists(st.sampled_from(FAULTS), max_size=2, unique=True)))
    nx, ny = draw(st.sampled_from([24, 16, 32, 40, 9])), draw(st.sampled_from([24, 20, 33, 12]))
    if "one-pixel" in faults:
        nx, ny = draw(st.sampled_from([(1, 1), (1, 24), (24, 1), (2, 3)]))
    n_slices = draw(st.integers(1, 3))
    n_phases = 1 if "one-phase" in faults else draw(st.sampled_from([6, 8, 9, 4, 2]))
    spacing = draw(st.sampled_from([(1.5, 1.5, 8.0), (0.7, 2.1, 10.0), (1.25, 1.25, 6.0)]))
    if faults & {"odd-spacing", "tiny-spacing", "huge-spacing"}:
        spacing = {"tiny-spacing": (1e-6, 1e-6, 1.0), "huge-spacing": (1e6, 1e6, 1.0)}.get(
            min(faults & {"tiny-spacing", "huge-spacing"}, default=""),
            draw(st.sampled_from([(0.0, 1.5, 8.0), (-1.5, 1.5, 8.0), (float("nan"), 1.5, 8.0),
                                  (float("inf"), 1.0, 1.0), (1.5, 1.5, 0.0)])))
    content = "ring"
    for fault in ("nan", "inf", "constant", "huge", "int", "noise"):
        if f"{fault}-cine" in faults:
            content = "int16" if fault == "int" else fault
    recipe = {"cine_shape": (nx, ny, n_slices, n_phases), "cine": content, "spacing": spacing,
              "affine": draw(affines(spacing, hostile="odd-affine" in faults)),
              "seed": draw(st.integers(0, 2**32 - 1))}
    good_triggers = {"none": None, "uniform": [40.0 * t for t in range(n_phases)],
                     "gated": [30.0 * t for t in range(n_phases)]}
    bad_triggers = {"short": [40.0 * t for t in range(max(n_phases - 1, 0))],
                    "decreasing": [40.0 * (n_phases - t) for t in range(n_phases)],
                    "nan": [float("nan")] * n_phases}
    triggers = bad_triggers if "bad-triggers" in faults else good_triggers
    recipe["trigger_times_ms"] = triggers[draw(st.sampled_from(sorted(triggers)))]
    bad_rr = "bad-rr" in faults
    recipe["rr_interval_ms"] = draw(st.sampled_from([-5.0, float("nan"), float("inf")] if bad_rr
                                                    else [None, 900.0, 200.0, 0.0]))
    recipe["ed_phase"] = draw(st.sampled_from([n_phases, -1, 10**6] if "bad-ed" in faults
                                              else [0, 0, n_phases - 1]))
    for name in ("lge", "labels"):
        shape = (nx, ny, n_slices)
        grid_spacing = spacing
        if f"{name}-other-slices" in faults:
            shape = (nx, ny, n_slices + 1)
        elif f"{name}-4d" in faults:
            shape = (nx, ny, n_slices, 2)
        elif f"{name}-other-grid" in faults:
            shape, grid_spacing = (max(nx // 2, 1), ny, n_slices), (spacing[0] * 2, spacing[1], spacing[2])
        recipe[name] = {"shape": shape, "spacing": grid_spacing} if draw(st.booleans()) else None
    lge_faults = [f for f in ("nan", "constant") if f"lge-{f}" in faults]
    recipe["lge_content"] = lge_faults[0] if lge_faults else "ring"
    label_faults = [f for f in ("emidec", "negative", "float", "nan", "background")
                    if f"labels-{f}" in faults]
    recipe["labels_content"] = label_faults[0] if label_faults else "tissue"
    recipe["options"] = {
        "n_phases": draw(st.sampled_from([25, 5, 2])), "crop_size": draw(st.sampled_from([16, 8, 32])),
        "target_spacing_mm": draw(st.sampled_from([None, 1.0, 3.0])),
        "localisation": draw(st.sampled_from(["auto", "cine", "centre", "labels"])),
        "temporal_method": draw(st.sampled_from(["linear", "fourier"])),
        "register_lge": draw(st.booleans()),
        "intensity_percentiles": draw(st.sampled_from([(0.5, 99.5), (0.0, 100.0), (2.0, 98.0)])),
    }
    if "bad-option" in faults:
        name, value = draw(st.sampled_from([("n_phases", 1), ("crop_size", 4), ("target_spacing_mm", -1.0),
                                            ("localisation", "nearest"), ("intensity_percentiles", (50, 50)),
                                            ("temporal_method", "cubic")]))
        recipe["options"][name] = value
    recipe["via_files"] = draw(st.booleans())
    return recipe


def labels_array(shape: tuple[int, ...], content: str, seed: int) -> np.ndarray:
    x, y = np.indices(shape[:2], dtype=np.float64)
    r = np.hypot(x - shape[0] / 2, y - shape[1] / 2)
    lab = np.select([r < max(shape[:2]) / 5, r < max(shape[:2]) / 3], [1, 2], 0).astype(np.float64)
    lab[(lab == 2) & (x > shape[0] / 2)] = 3  # a lateral scar
    out = np.broadcast_to(lab.reshape(lab.shape + (1,) * (len(shape) - 2)), shape).copy()
    if content == "emidec":
        out[out == 3] = 4
    elif content == "negative":
        out.flat[0] = -1
    elif content == "float":
        out = out + 0.5
    elif content == "nan":
        out.flat[np.random.default_rng(seed).integers(0, out.size)] = np.nan
    elif content == "background":
        out[:] = 0
    return out if content in ("float", "nan", "negative") else out.astype(np.uint8)


def build(recipe: dict, folder) -> tuple[ImageVolume | None, ...]:  # noqa: ANN001 - a Path
    """The cine, LGE and label volumes of ``recipe``; with ``via_files`` written to NIfTI and read back."""
    seed = recipe["seed"]
    arrays = {"cine": fill(recipe["cine_shape"], recipe["cine"], seed)}
    if recipe["lge"]:
        arrays["lge"] = fill(recipe["lge"]["shape"], recipe["lge_content"], seed + 1)
    if recipe["labels"]:
        arrays["labels"] = labels_array(recipe["labels"]["shape"], recipe["labels_content"], seed)
    meta = {"trigger_times_ms": recipe["trigger_times_ms"], "rr_interval_ms": recipe["rr_interval_ms"]}
    volumes = {}
    for name, array in arrays.items():
        spacing = recipe["spacing"] if name == "cine" else recipe[name]["spacing"]
        path = folder / f"{name}.nii.gz"
        if recipe["via_files"]:
            try:
                write_nifti(path, array, spacing=spacing, affine=recipe["affine"])
            except Exception:  # nibabel refuses to write this header: construct the volume in memory
                pass
            else:
                volumes[name] = read_image(path, name)
                if name == "cine":
                    volumes[name].meta.update(meta)
                continue
        cine = name == "cine"
        volumes[name] = ImageVolume(array, spacing=spacing, affine=recipe["affine"] if cine else None,
                                    source=path, meta=meta if cine else {})
    return volumes.get("cine"), volumes.get("lge"), volumes.get("labels")


def check_prepared(slices: list, n_slices: int, options: PreprocessOptions, with_lge: bool,
                   with_labels: bool) -> None:
    """The data contract of :class:`~pscgan.preprocessing.pipeline.PreparedSlice`."""
    assert len(slices) == n_slices
    size = options.crop_size
    for k, item in enumerate(slices):
        assert item.slice_index == k
        assert item.cine.shape == (options.n_phases, size, size) and item.cine.dtype == np.float32
        images = [item.cine] + ([item.lge] if with_lge else [])
        for img in images:
            assert np.all(np.isfinite(img)) and img.min() >= -1.0 and img.max() <= 1.0
        assert (item.lge is not None) == with_lge and (item.labels is not None) == with_labels
        if with_labels:
            assert item.labels.shape == (size, size) and item.labels.dtype == np.uint8
            assert item.labels.max() <= 3
        assert all(np.isfinite(s) and s > 0 for s in item.spacing_mm)
        json.dumps(item.record.model_dump(mode="json"), allow_nan=False)


@settings(FUZZ, max_examples=330)
@given(recipe=subjects())
def test_fuzzed_subject_is_prepared_or_refused(fuzz_cases, tmp_path, recipe):
    try:
        with fuzz_cases.watchdog("preprocessing"):
            options = PreprocessOptions(**recipe["options"])
            cine, lge, labels = build(recipe, tmp_path)
            slices = prepare_arrays(cine, lge, labels, options, subject_id="fuzz",
                                    ed_phase=recipe["ed_phase"])
    except ConfigError as err:
        assert err.problem and (err.path is None or err.path.parent == tmp_path), err
        event(f"ConfigError: {' '.join(err.problem.split()[:3])}")
        return
    except PscganError as err:
        assert err.path is not None and err.path.parent == tmp_path and err.problem, err
        event(f"{type(err).__name__}: {' '.join(err.problem.split()[:3])}")
        return
    check_prepared(slices, recipe["cine_shape"][2], options, lge is not None, labels is not None)
    event("prepared")


def test_microscopic_voxel_size_is_prepared_without_kernels_beyond_the_image(tmp_path):
    """A 1e-6 mm voxel size once made multi-million-pixel smoothing and closing kernels (a hang)."""
    cine = ImageVolume(fill((24, 24, 1, 6), "ring", 0), spacing=(1e-6, 1e-6, 1.0), source=tmp_path / "c.nii")
    lge = ImageVolume(fill((24, 24, 1), "ring", 1), spacing=(1e-6, 1e-6, 1.0), source=tmp_path / "l.nii")
    options = PreprocessOptions(localisation="cine", register_lge=True, crop_size=16)
    slices = prepare_arrays(cine, lge, None, options)
    check_prepared(slices, 1, options, with_lge=True, with_labels=False)


def test_invalid_rr_interval_is_refused_naming_the_cine(tmp_path):
    cine = ImageVolume(fill((24, 24, 1, 6), "ring", 0), spacing=(1.5, 1.5, 8.0), source=tmp_path / "c.nii",
                       meta={"rr_interval_ms": float("nan")})
    with pytest.raises(PscganError, match="RR interval") as err:
        prepare_arrays(cine, options=PreprocessOptions(localisation="centre", crop_size=16))
    assert err.value.path == tmp_path / "c.nii"
