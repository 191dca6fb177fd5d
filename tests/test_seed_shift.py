"""`make test-seeds` really shifts every seed: run a probe under tests/seeds with VILAB_SEED_OFFSET set.

The probe seeds each generator the way the notebooks and the package do and
prints the first draws; with offset N they must equal the draws of seed s + N
in an unpatched process, and with offset 0 those of seed s.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, random
import numpy as np
import torch
from vilab import estimators, vae

out = {
    "torch.manual_seed": (torch.manual_seed(SEED), torch.rand(2).tolist())[1],
    "torch.Generator": torch.rand(2, generator=torch.Generator().manual_seed(SEED)).tolist(),
    "default_rng": np.random.default_rng(SEED).random(2).tolist(),
    "np.random.seed": (np.random.seed(SEED), np.random.random(2).tolist())[1],
    "RandomState": np.random.RandomState(SEED).random_sample(2).tolist(),
    "random.seed": (random.seed(SEED), [random.random(), random.random()])[1],
    "package": estimators.standard_normal_draws(2, seed=SEED).tolist(),
    "package binarize": vae.binarize(torch.full((1, 28, 28), 128, dtype=torch.uint8), seed=SEED)[0, :8].tolist(),
    "default_rng(None) works": len(np.random.default_rng().random(2)),
}
print(json.dumps(out))
"""


def _run(seed, offset=None):
    """The probe's output for ``seed``: patched with VILAB_SEED_OFFSET=offset, or in a plain process (None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VILAB_SEED_OFFSET")}
    if offset is not None:
        env["VILAB_SEED_OFFSET"] = str(offset)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "seeds"), str(ROOT / "tests" / "offline")])
    probe = PROBE.replace("SEED", str(seed))
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_offset_shifts_every_seed():
    shifted, reference, plain = _run(5, offset=3), _run(8), _run(5)
    for key in shifted:
        assert shifted[key] == reference[key], key
        if key != "default_rng(None) works":
            assert shifted[key] != plain[key], f"{key} was not shifted"


def test_offset_zero_changes_nothing():
    assert _run(5, offset=0) == _run(5)
