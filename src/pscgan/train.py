"""``python -m pscgan.train``: the training entry point for ``torchrun``.

Example::

    torchrun --nproc_per_node=2 -m pscgan.train --data phantom --preset cpu --out runs/cpu
    torchrun --nnodes=2 --node_rank=0 --rdzv_backend=c10d --rdzv_endpoint=host:29400 \\
        --nproc_per_node=4 -m pscgan.train --data /data/ihd --preset paper --out runs/paper
"""

from __future__ import annotations

import typer

from pscgan.cli.train import train

if __name__ == "__main__":  # pragma: no cover - exercised through torchrun in tests
    typer.run(train)
