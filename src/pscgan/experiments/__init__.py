"""Experiments: the paper's ablation tables (3-6), the efficient-attention comparison, and subject-level
k-fold cross-validation, each as resumable runs under one experiment folder.

Example:
    >>> from pscgan.experiments import ExperimentTable, variants_of
    >>> variants_of(ExperimentTable.TABLE5)[1].name
    'regularisation_off'
"""

from __future__ import annotations

from pscgan.experiments.budget import Budget, BudgetKind, budget_from_options
from pscgan.experiments.cv import CvOptions, kfold_subjects, run_cv
from pscgan.experiments.runner import ExperimentOptions, run_experiment
from pscgan.experiments.variants import ExperimentTable, Variant, variants_of

__all__ = ["Budget", "BudgetKind", "CvOptions", "ExperimentOptions", "ExperimentTable", "Variant",
           "budget_from_options", "kfold_subjects", "run_cv", "run_experiment", "variants_of"]
