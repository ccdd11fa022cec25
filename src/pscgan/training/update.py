"""One optimiser update, the same for every task: backward, gradients averaged over ranks, refused when
not finite, then the step.

A task's :meth:`~pscgan.training.task.Task.step` makes one or more updates through
:func:`apply_update`, so every task trains data-parallel under ``torchrun`` and none ever applies a
NaN/inf gradient: the check raises :class:`~pscgan.training.divergence.NonFiniteStep` *before*
``optimizer.step()`` and the loop recovers (:mod:`pscgan.training.loop`).

Example:
    >>> import torch
    >>> from pscgan.training.distributed import single_process
    >>> net = torch.nn.Linear(2, 1)
    >>> opt = torch.optim.SGD(net.parameters(), lr=0.1)
    >>> loss = net(torch.ones(1, 2)).pow(2).mean()
    >>> sorted(apply_update(opt, net, {"mse": loss, "total": loss}, single_process(), "g"))
    ['g_mse', 'g_total']
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from pscgan.training.distributed import DistContext
from pscgan.training.divergence import check_update
from pscgan.training.gradients import average_gradients


def apply_update(opt: torch.optim.Optimizer, module: nn.Module, terms: dict[str, Tensor], ctx: DistContext,
                 prefix: str, *, total: str = "total") -> dict[str, float]:
    """Back-propagate ``terms[total]`` into ``module`` and step ``opt``; returns every term as a float,
    keyed ``<prefix>_<term>``.

    Raises:
        NonFiniteStep: a term or a gradient is not finite (on any rank); ``opt`` did not step.
    """
    opt.zero_grad(set_to_none=True)
    terms[total].backward()
    average_gradients(module, ctx)
    logs = {f"{prefix}_{k}": float(v.detach()) for k, v in terms.items()}
    check_update(logs, module, ctx)  # raises before the step: a non-finite update never reaches the weights
    opt.step()
    return logs
