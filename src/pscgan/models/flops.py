"""Count the floating-point operations of a network pass with torch's own counter.

:func:`count_flops` runs a function under :class:`torch.utils.flop_counter.FlopCounterMode`, which
counts matrix multiplies and convolutions (2 FLOPs per multiply-add), forward and backward.
Build the network and its inputs on the ``meta`` device to count without computing or allocating:
there :func:`pscgan.models.attention.attention` takes the plain ``softmax(QK^T)V`` path, so the count
is the model's own work (query/key C/8, value C) and not the zero padding the fused kernel adds.
Element-wise work (softmax, norms, activations) is not counted.

Example:
    >>> import torch
    >>> with torch.device("meta"):
    ...     lin = torch.nn.Linear(10, 20)
    ...     x = torch.zeros(3, 10)
    >>> count_flops(lambda: lin(x))
    1200
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.utils.flop_counter import FlopCounterMode


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of the matmuls and convolutions ``fn`` runs (including any backward it calls)."""
    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())
