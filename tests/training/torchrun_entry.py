"""Test-only torchrun entry point: runs ``python -m pscgan.train`` unchanged and, on every rank, writes a
digest of the cascade that rank ends with, so a test can check that all ranks hold the same weights.

Usage: ``python -m torch.distributed.run ... tests/training/torchrun_entry.py <pscgan.train arguments>``
with ``PSCGAN_TEST_DIGEST_DIR`` set to a folder outside the run folder. Not collected by pytest.
"""

from __future__ import annotations

import hashlib
import json
import os
import runpy
from pathlib import Path


def tensor_digests(state: dict) -> dict[str, str]:
    """sha256 of each tensor's float32 bytes, by state_dict key."""
    return {k: hashlib.sha256(v.detach().cpu().float().contiguous().numpy().tobytes()).hexdigest()
            for k, v in state.items()}


def main() -> None:
    from pscgan.models.cascade import Cascade
    from pscgan.training.trainer import ProgressiveTrainer

    out = Path(os.environ["PSCGAN_TEST_DIGEST_DIR"])
    train = ProgressiveTrainer.train

    def train_and_digest(self: ProgressiveTrainer):  # noqa: ANN202 - returns what train returns
        generators = train(self)
        if generators is not None:
            digest = tensor_digests(Cascade(generators).state_dict())
            (out / f"rank{os.environ.get('RANK', '0')}.json").write_text(json.dumps(digest, sort_keys=True))
        return generators

    ProgressiveTrainer.train = train_and_digest
    runpy.run_module("pscgan.train", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
