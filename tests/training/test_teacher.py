"""Teacher estimates (the Langevin separator on mixtures only) and the wake update of q on them."""
import json
import os

import numpy as np
import pytest
import torch

import priorsep
from priorsep.checkpoint import atomic_npz_save
from priorsep.data.multitrack import MixturesOnly
from priorsep.data.toy import ToyMixCrops
from priorsep.errors import ConfigError, DataError
from priorsep.mixing import mix as mix_sources
from priorsep.training.teacher import (TeacherRemixes, accepted_sources, load_teacher_labels, rate_sources,
                                       write_teacher_labels)

QUICK = dict(n_levels=2, steps_per_level=1, denoise=False)


def test_teacher_labels_are_written_rated_and_resumed(tmp_path, tiny_toy_priors):
    priors = priorsep.load_priors(tiny_toy_priors)
    mixes = MixturesOnly(ToyMixCrops(256, seed=3))
    paths = write_teacher_labels(priors, mixes, tmp_path / "t", 2, quiet=True, **QUICK)
    labels = load_teacher_labels(tmp_path / "t")
    assert [p.name for p in paths] == ["mix_00000.npz", "mix_00001.npz"] and len(labels) == 2
    lab = labels[1]
    np.testing.assert_array_equal(lab["mix"], mixes[1].numpy())
    assert lab["sources"].shape == (4, 256) and lab["log_density"].shape == (4, 4)
    # the teacher's estimates meet the mix (dirac constraint) and are the separator's own output
    np.testing.assert_allclose(mix_sources(lab["sources"], priors.weights), lab["mix"], atol=1e-5)
    est = priorsep.langevin_separate(lab["mix"], priors=priors, seed=1, **QUICK)
    np.testing.assert_allclose(lab["sources"][2], est["sawtooth"], atol=1e-6)
    np.testing.assert_allclose(lab["log_density"], rate_sources(priors, lab["sources"], 0.01), rtol=1e-5)
    assert json.loads((tmp_path / "t" / "teacher.json").read_text())["sources"] == list(priors.names)
    # resume: existing files are kept, the missing one is added
    before = os.stat(paths[0]).st_mtime_ns
    write_teacher_labels(priors, mixes, tmp_path / "t", 3, quiet=True, **QUICK)
    assert os.stat(paths[0]).st_mtime_ns == before and len(load_teacher_labels(tmp_path / "t")) == 3
    with pytest.raises(DataError, match="no teacher estimates"):
        load_teacher_labels(tmp_path / "empty")


def _label(dens, value):
    return {"sources": np.full((len(dens), 8), value, np.float32), "log_density": np.array(dens, np.float64)}


def test_accepted_sources_keeps_whole_mixtures_their_own_priors_rate_highest():
    good = _label([[2.0, 0.0], [1.0, 3.0]], 1.0)
    swapped = _label([[2.0, 0.0], [1.0, -1.0]], 2.0)  # estimate 1 is rated higher by prior 0
    low = _label([[0.5, 0.0], [0.0, 3.0]], 3.0)
    pools = accepted_sources([good, swapped, low])
    assert [len(p) for p in pools] == [2, 2] and pools[0][1][0] == 3.0  # swapped is out whole
    pools = accepted_sources([good, swapped, low], min_density=1.0)
    assert [len(p) for p in pools] == [1, 1] and pools[1][0][0] == 1.0


def test_teacher_remixes_mix_their_sources_and_are_seeded():
    rng = np.random.default_rng(0)
    pools = [[rng.standard_normal(100).astype(np.float32) for _ in range(3)] for _ in range(2)]
    data = TeacherRemixes(pools, [0.5, 0.5], length=40, seed=1)
    m, s = data[7]
    assert m.shape == (40,) and s.shape == (2, 40)
    torch.testing.assert_close(m, 0.5 * s[0] + 0.5 * s[1])
    # each source is a crop of one of its own pool's estimates
    assert any(np.isin(s[0].numpy(), x).all() for x in pools[0])
    torch.testing.assert_close(TeacherRemixes(pools, [0.5, 0.5], length=40, seed=1)[7][1], s)
    assert not torch.equal(TeacherRemixes(pools, [0.5, 0.5], length=40, seed=2)[7][1], s)
    with pytest.raises(DataError, match=r"\[3, 0\]"):
        TeacherRemixes([pools[0], []], [0.5, 0.5], length=40)
    with pytest.raises(ConfigError, match="exceeds"):
        TeacherRemixes(pools, [0.5, 0.5], length=101)


def test_wake_update_raises_log_q_of_the_teacher_estimates(tmp_path, tiny_toy_priors):
    from priorsep.encoders import MaskEncoder
    from priorsep.training.posterior import train_posterior

    priors = priorsep.load_priors(tiny_toy_priors)
    paired = ToyMixCrops(1024, seed=0, size=2)  # stand-in estimates: any (mix, sources) pairs that meet the mix
    torch.manual_seed(0)
    enc = MaskEncoder(priors.weights, hidden=4, levels=2, n_fft=256, hop=64)
    log = train_posterior(priors, enc, paired, tmp_path / "enc", steps=30, batch_size=2, lr=1e-2, quiet=True,
                          objective="teacher", checkpoint_every=30)
    assert "log_q" in log[0] and "elbo" not in log[0]
    assert np.mean([r["log_q"] for r in log[-5:]]) > np.mean([r["log_q"] for r in log[:5]]) + 0.5
    cfg = json.loads((tmp_path / "enc.json").read_text())
    assert "no stems" in cfg["training"]["objective"] and "Langevin" in cfg["training"]["objective"]
    with pytest.raises(ConfigError, match="objective"):
        train_posterior(priors, enc, paired, tmp_path / "x", steps=1, objective="mse")


def test_train_posterior_cli_fits_q_to_teacher_estimates(tmp_path, tiny_toy_priors, capsys):
    from priorsep.cli import main
    from priorsep.encoders import MaskEncoder, load_encoder

    priors = priorsep.load_priors(tiny_toy_priors)
    paths = write_teacher_labels(priors, MixturesOnly(ToyMixCrops(1024, seed=3)), tmp_path / "t", 2, quiet=True,
                                 **QUICK)
    for path, lab in zip(paths, load_teacher_labels(tmp_path / "t")):  # untrained priors: rate them as accepted
        atomic_npz_save(path, **{**lab, "log_density": np.eye(4)})
    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "x")]) == 2
    assert "--data" in capsys.readouterr().err
    args = ["train-posterior", "--priors", str(tiny_toy_priors), "--teacher", str(tmp_path / "t"),
            "--architecture", "mask", "--steps", "2", "--batch-size", "2", "--crop", "1024", "--hidden", "4",
            "--levels", "2", "--quiet", "--out", str(tmp_path / "enc")]
    assert main(args) == 0
    assert "log q of the teacher" in capsys.readouterr().out
    assert isinstance(load_encoder(tmp_path / "enc"), MaskEncoder)
    # an ELBO stage from it (q's std tied to sigma) keeps the teacher stage's record
    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--data", "toy", "--init", str(tmp_path / "enc"),
                 "--tie-scale", "--steps", "1", "--batch-size", "1", "--crop", "1024", "--quiet",
                 "--out", str(tmp_path / "enc-elbo")]) == 0
    cfg = json.loads((tmp_path / "enc-elbo.json").read_text())
    assert cfg["training"]["tie_scale"] and cfg["window"] == 1024 and cfg["harmonics"] == [1.0]
    assert [h["objective"].split()[0] for h in cfg["training_history"]] == ["log"]
    meta = tmp_path / "t" / "teacher.json"
    meta.write_text(meta.read_text().replace('"sine"', '"flute"'))
    assert main(args[:-1] + [str(tmp_path / "enc3")]) == 2 and "flute" in capsys.readouterr().err
    meta.write_text(meta.read_text().replace('"flute"', '"sine"'))
    assert main(args[:-1] + [str(tmp_path / "enc2"), "--teacher-min-density", "1e9"]) == 2
    assert "accepted teacher estimate" in capsys.readouterr().err
