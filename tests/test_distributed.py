"""torchrun with 2 CPU processes (gloo): training commands shard the batches and reach the same
parameters as one process."""
import os
import subprocess
import sys

import pytest
import torch

from priorsep.distributed import Dist

TINY_FLOW = ["train-prior", "--kind", "flow", "--data", "toy", "--source", "sine", "--steps", "3", "--batch-size", "4",
             "--crop", "256", "--squeeze", "4", "--n-blocks", "2", "--hidden", "8", "--n-layers", "2",
             "--dsm-weight", "1", "--checkpoint-every", "2", "--quiet"]


def _run(args, tmp_path, nproc=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if nproc:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
               "-m", "priorsep", *args]
    else:
        cmd = [sys.executable, "-m", "priorsep", *args]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def _assert_same_parameters(ddp, single):
    a, b = torch.load(ddp, weights_only=True), torch.load(single, weights_only=True)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6, msg=k)


def _assert_ddp_matches_one_process(args, tmp_path):
    """Train with ``args`` under torchrun (2 processes) and in one process: same parameters."""
    _run([*args, "--out", "ddp"], tmp_path, nproc=2)
    _run([*args, "--out", "single"], tmp_path)
    _assert_same_parameters(tmp_path / "ddp.pt", tmp_path / "single.pt")


@pytest.mark.slow
def test_torchrun_two_processes_train_a_prior_like_one(tmp_path):
    (tmp_path / "ddp").mkdir()
    res = _run([*TINY_FLOW, "--out", "ddp/"], tmp_path, nproc=2)
    assert res.stdout.count("saved") == 1  # rank 0 reports, rank 1 stays quiet
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == [
        "sine.json", "sine.log.jsonl", "sine.pt", "sine.train.pt"]
    assert len((tmp_path / "ddp" / "sine.log.jsonl").read_text().splitlines()) == 3  # one log, not one per rank
    _run([*TINY_FLOW, "--out", "single"], tmp_path)
    _assert_same_parameters(tmp_path / "ddp" / "sine.pt", tmp_path / "single.pt")


@pytest.mark.slow
def test_torchrun_trains_an_off_manifold_denoiser_like_one_process(tmp_path):
    args = ["train-prior", "--kind", "denoiser", "--data", "toy", "--source", "sine", "--steps", "2", "--batch-size",
            "4", "--crop", "256", "--n-fft", "64", "--hop", "16", "--hidden", "4", "--layers", "1", "--global-context",
            "--off-manifold", "0.5", "--checkpoint-every", "2", "--quiet"]
    _assert_ddp_matches_one_process(args, tmp_path)


@pytest.mark.slow
def test_torchrun_trains_the_waveunet_baseline(tmp_path):
    args = ["train-baseline", "--model", "waveunet", "--data", "toy", "--steps", "2", "--batch-size", "4", "--levels",
            "2", "--features", "4", "--output-length", "64", "--val-items", "4", "--checkpoint-every", "2", "--quiet"]
    _assert_ddp_matches_one_process(args, tmp_path)


def test_shards_partition_the_batch():
    parts = [Dist(rank=r, world=4).shard(8) for r in range(4)]
    assert [list(range(8))[p] for p in parts] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    with pytest.raises(ValueError, match="multiple of the number of processes"):
        Dist(rank=0, world=3).shard(8)


@pytest.mark.slow
def test_torchrun_splits_the_files_of_a_separation(tiny_toy_priors, tmp_path):
    from priorsep.data.audio import write_audio
    from priorsep.data.toy import toy_eval_set

    data = toy_eval_set(3, 512, seed=5)
    (tmp_path / "mixes").mkdir()
    for i in range(3):
        write_audio(tmp_path / "mixes" / f"m{i}.wav", data.mixes[i], 14700)
    res = _run(["separate", "mixes", "--priors", str(tiny_toy_priors), "--out", "sep", "--n-levels", "2",
                "--steps-per-level", "2", "--quiet"], tmp_path, nproc=2)
    assert "separated 2 input(s) into sep, skipped 0 finished (rank 0 of 2)" in res.stdout
    assert "separated 1 input(s) into sep, skipped 0 finished (rank 1 of 2)" in res.stdout
    assert len(list((tmp_path / "sep").rglob("*.wav"))) == 3 * 4


@pytest.mark.parametrize("outcome, code, finished", [("ok", 0, True), ("error", 2, False)])
def test_main_ends_a_process_of_a_group_with_os_exit(monkeypatch, capsys, outcome, code, finished):
    """In a process group, ``main`` leaves the group (barrier only after a normal return) and ends with
    ``os._exit``: the interpreter's teardown is where gloo's threads aborted 8 runs in 115."""
    from priorsep import cli, distributed
    from priorsep.errors import ConfigError

    def command(args):
        print("command ran")
        if outcome == "error":
            raise ConfigError("bad setting")
        return 0

    left = []
    monkeypatch.setattr(cli, "cmd_diagnose", command)
    monkeypatch.setattr(distributed, "shutdown", lambda finished: left.append(finished) or True)

    def fake_exit(status):
        raise SystemExit(("os._exit", status))

    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    with pytest.raises(SystemExit) as e:
        cli.main(["diagnose", "--quiet"])
    assert e.value.code == ("os._exit", code) and left == [finished]
    out = capsys.readouterr()
    assert "command ran" in out.out and ("bad setting" in out.err) == (outcome == "error")


def test_main_returns_its_code_outside_a_group(monkeypatch):
    from priorsep import cli

    monkeypatch.setattr(cli, "cmd_diagnose", lambda args: 0)
    monkeypatch.setattr(cli.os, "_exit", lambda status: pytest.fail("os._exit outside a process group"))
    assert cli.main(["diagnose", "--quiet"]) == 0
