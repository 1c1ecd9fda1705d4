"""A training process killed mid-run (SIGKILL, no chance to clean up) resumes from its last
checkpoint and ends with exactly the parameters of an uninterrupted run."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

pytestmark = pytest.mark.slow  # two training runs in subprocesses, one killed

ARGS = ["train-prior", "--kind", "flow", "--data", "toy", "--source", "square", "--steps", "300", "--batch-size", "4",
        "--crop", "256", "--squeeze", "4", "--n-blocks", "2", "--hidden", "8", "--n-layers", "2", "--dsm-weight", "1",
        "--checkpoint-every", "25", "--seed", "3", "--quiet"]


def _cmd(out):
    return [sys.executable, "-m", "priorsep", *ARGS, "--out", str(out)]


def test_killed_training_resumes_to_the_same_parameters(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(_cmd(tmp_path / "full"), env=env, check=True, capture_output=True, timeout=600)

    proc = subprocess.Popen(_cmd(tmp_path / "cut"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "cut.train.pt"
    deadline = time.time() + 300
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    step = torch.load(state, weights_only=True)["step"]
    assert 0 < step < 300, f"the run was not interrupted mid-way (step {step})"

    subprocess.run([*_cmd(tmp_path / "cut"), "--resume"], env=env, check=True, capture_output=True, timeout=600)
    full = torch.load(tmp_path / "full.train.pt", weights_only=True)
    cut = torch.load(tmp_path / "cut.train.pt", weights_only=True)
    assert cut["step"] == full["step"] == 300
    for name, value in full["model"].items():
        torch.testing.assert_close(cut["model"][name], value, rtol=0, atol=0, msg=name)
    log = [line for line in (tmp_path / "cut.log.jsonl").read_text().splitlines()]
    assert len(log) == 300  # no step logged twice or lost
