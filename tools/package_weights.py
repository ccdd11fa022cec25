"""Package a trained run's weights for shipping inside pscgan (float16, with provenance metadata).

Usage::

    python tools/package_weights.py RUN src/pscgan/weights/pscgan-cpu-phantom.safetensors

The packaged file keeps the run's configuration and a checksum, and records the run's split and the
training command (and the command of each resume) from ``RUN/environment.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pscgan.models.weights import load_weights, save_weights
from pscgan.training.run_folder import portable_command


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    cascade, config = load_weights(args.run / "model.safetensors")
    env = json.loads((args.run / "environment.json").read_text())
    split = json.loads((args.run / "split.json").read_text())
    # a resumed run: each later sitting's command, so the file says the training was not one go
    resumes = [portable_command(r.get("command") or []) for r in env.get("resumes", [])]
    extra = {"training_command": portable_command(env.get("command", [])),
             "training_resumes": json.dumps(resumes),
             "training_versions": json.dumps(env.get("versions", {})),
             "test_subjects": json.dumps(split.get("test", []))}
    save_weights(args.out, cascade, config, extra=extra, half=True)
    print(f"wrote {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
