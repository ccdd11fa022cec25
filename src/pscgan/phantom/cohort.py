"""Generate a phantom cohort in the canonical dataset layout.

Subject ``i`` of a cohort with seed ``s`` draws its parameters from ``SeedSequence([s, i])``, so any
subject can be regenerated alone and the output does not depend on the number of worker processes.
Which subjects are normal is fixed by the cohort seed (a seeded permutation). The train/test split is
by subject (:func:`pscgan.data.layout.make_split`, seeded by the cohort seed) and recorded in
``dataset.json`` together with the options and the software version; the manifest is written last, so a
folder without ``dataset.json`` is an interrupted run.

Example:
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> manifest = generate_cohort(out, CohortOptions(n_subjects=2, n_slices=1), workers=1, progress=False)
    >>> manifest.subjects, sum(len(v) for v in manifest.split.values())
    (['phantom_0000', 'phantom_0001'], 2)
"""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pscgan import __version__
from pscgan.data.layout import (
    CINE_LABELS_FILE,
    DatasetManifest,
    LabelGeometry,
    make_split,
    read_subject_info,
    write_manifest,
    write_subject,
)
from pscgan.errors import InputError
from pscgan.io.atomic import prepare_output_dir
from pscgan.phantom.params import LgeReconstruction, SubjectParams, sample_subject
from pscgan.phantom.render import RenderedSubject, render_subject


@dataclass
class CohortOptions:
    """What to generate (defaults mirror the paper: 230 IHD + 50 normal subjects, 3 slice levels)."""

    n_subjects: int = 280
    seed: int = 0
    normal_fraction: float = 50 / 280
    n_slices: int = 3
    matrix: int = 64
    cine_scar_contrast: bool = True
    test_fraction: float = 0.25
    lge_reconstruction: LgeReconstruction = LgeReconstruction.MAGNITUDE

    def __post_init__(self) -> None:
        if self.n_subjects < 1:
            raise ValueError("n_subjects must be at least 1")
        if not 0.0 <= self.normal_fraction <= 1.0:
            raise ValueError("normal_fraction must be in [0, 1]")
        if not 1 <= self.n_slices <= 3:
            raise ValueError("n_slices must be 1..3")
        self.lge_reconstruction = LgeReconstruction(self.lge_reconstruction)


def subject_id(index: int) -> str:
    return f"phantom_{index:04d}"


def subject_seed(cohort_seed: int, index: int) -> int:
    """Seed of subject ``index``: independent streams per subject, whatever the worker count."""
    return int(np.random.SeedSequence([cohort_seed, index]).generate_state(1)[0])


def normal_flags(options: CohortOptions) -> np.ndarray:
    """Which subjects are normal: ``round(n * normal_fraction)`` of them, spread by a seeded permutation."""
    n_normal = int(round(options.n_subjects * options.normal_fraction))
    rng = np.random.default_rng(np.random.SeedSequence([options.seed, 2**31 - 1]))  # not a subject's stream
    order = rng.permutation(options.n_subjects)
    flags = np.zeros(options.n_subjects, bool)
    flags[order[:n_normal]] = True
    return flags


def subject_params(options: CohortOptions, index: int, normal: bool) -> SubjectParams:
    return sample_subject(subject_seed(options.seed, index), normal=normal, n_slices=options.n_slices,
                          cine_scar_contrast=options.cine_scar_contrast, subject_id=subject_id(index),
                          lge_reconstruction=options.lge_reconstruction)


def _write(out: Path, rendered: RenderedSubject) -> None:
    write_subject(out, rendered.info, cine=rendered.cine, lge=rendered.lge, labels=rendered.labels,
                  cine_labels=rendered.cine_labels)


def _generate_one(job: tuple[str, dict, int, bool]) -> tuple[str, bool]:
    out, opts, index, normal = job
    options = CohortOptions(**opts)
    params = subject_params(options, index, normal)
    _write(Path(out), render_subject(params, matrix=options.matrix))
    return params.subject_id, normal


def generate_cohort(out: str | Path, options: CohortOptions, *, workers: int = 0, overwrite: bool = False,
                    progress: bool | None = None) -> DatasetManifest:
    """Render and write a cohort; returns the manifest written to ``out/dataset.json``.

    Args:
        out: dataset folder; must be empty or missing unless ``overwrite``.
        options: what to generate.
        workers: worker processes (0: one per CPU core; 1: in this process).
        overwrite: empty a folder that already holds data first.
        progress: show a progress bar (default: when stderr is a terminal).

    Raises:
        OutputExistsError: ``out`` holds data and ``overwrite`` is false (nothing is touched).
    """
    from rich.progress import Progress

    from pscgan.ui import progress_columns, progress_enabled

    out = prepare_output_dir(out, overwrite=overwrite)
    workers = workers or os.cpu_count() or 1
    flags = normal_flags(options)
    opts = asdict(options)
    jobs = [(str(out), opts, i, bool(flags[i])) for i in range(options.n_subjects)]
    show = progress_enabled() if progress is None else progress
    with Progress(*progress_columns(), disable=not show) as bar:
        task = bar.add_task("rendering phantom subjects", total=len(jobs))
        if workers == 1 or len(jobs) == 1:
            for job in jobs:
                _generate_one(job)
                bar.advance(task)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(min(workers, len(jobs))) as pool:
                for _ in pool.imap_unordered(_generate_one, jobs):
                    bar.advance(task)
    ids = [subject_id(i) for i in range(options.n_subjects)]
    opts["lge_reconstruction"] = options.lge_reconstruction.value
    manifest = DatasetManifest(
        name="pscgan-phantom",
        description=f"Numerical cine + LGE phantom: {int(flags.sum())} normal and "
                    f"{options.n_subjects - int(flags.sum())} IHD subjects, "
                    f"{options.n_slices} slice level(s) each.",
        files={"cine": "cine.nii.gz", "lge": "lge.nii.gz", "labels": "labels.nii.gz",
               "subject": "subject.json", "cine_labels": CINE_LABELS_FILE},
        subjects=ids, split=make_split(ids, test_fraction=options.test_fraction, seed=options.seed),
        provenance={"source": "phantom", "created_by": f"pscgan {__version__}", "options": opts,
                    "normal_subjects": [s for s, f in zip(ids, flags) if f]},
        labels_geometry=LabelGeometry.CINE)  # labels drawn at ED without the cine-to-LGE misregistration
    write_manifest(out, manifest)
    return manifest


def rerender_subject(subject_folder: str | Path) -> RenderedSubject:
    """Render a subject again from the parameters recorded in its ``subject.json`` (bit-identical)."""
    folder = Path(subject_folder)
    info = read_subject_info(folder)
    phantom = info.phantom or {}
    if "params" not in phantom:
        raise InputError(folder / "subject.json", "holds no phantom parameters (not a phantom subject)")
    from pydantic import ValidationError

    try:
        params = SubjectParams.model_validate(phantom["params"])
    except ValidationError as exc:
        problem = f"invalid phantom parameters: {exc.errors()[0]['msg']}"
        raise InputError(folder / "subject.json", problem) from None
    return render_subject(params, matrix=int(phantom.get("matrix", 64)))
