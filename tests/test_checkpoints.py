import json

import numpy as np
import pytest
import torch

from priorsep.data.toy import ToySourceCrops
from priorsep.priors.io import PriorSet, load_prior, load_priors, save_prior
from priorsep import langevin_separate
from priorsep.training.prior import train_prior

from .conftest import tiny_flow


def test_missing_and_corrupt_checkpoints_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        load_prior(tmp_path / "nothing")
    save_prior(tiny_flow(), tmp_path / "sine")
    (tmp_path / "sine.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="corrupt"):
        load_prior(tmp_path / "sine")
    (tmp_path / "sine.json").write_text("{broken")
    with pytest.raises(ValueError, match="corrupt prior config"):
        load_prior(tmp_path / "sine")


def test_prior_set_order_weights_and_rate_checks(tmp_path):
    for name in ("square", "sine"):
        save_prior(tiny_flow(name), tmp_path / name)
    assert load_priors(tmp_path).names == ["sine", "square"]
    (tmp_path / "priorset.json").write_text('{"sources": ["square", "sine"]}')
    ps = load_priors(tmp_path)
    assert ps.names == ["square", "sine"] and ps.weights == [0.5, 0.5] and ps.sample_rate == 14700
    with pytest.raises(ValueError, match="mismatched sample rates"):
        PriorSet([tiny_flow("a", rate=14700), tiny_flow("b", rate=16000)])
    assert ps.sampler == {} and ps.kind == "flow"
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no prior checkpoints"):
        load_priors(tmp_path / "empty")


def test_score_matching_improves_the_tweedie_denoiser(tmp_path):
    """A few DSM steps on a tiny flow must lower the DSM loss on fixed held-out noise."""
    from priorsep.schedule import sample_training_sigmas

    ds = ToySourceCrops("sine", length=256, seed=0)
    prior = tiny_flow()
    g = torch.Generator().manual_seed(5)
    x = torch.stack([ToySourceCrops("sine", 256, seed=9)[i] for i in range(16)])
    sigma = sample_training_sigmas(16, 0.05, 1.0, generator=g)
    eps = torch.randn(x.shape, generator=g)

    def dsm_loss():
        score, _ = prior.score(x + sigma[:, None] * eps, sigma)
        return (sigma[:, None] * score + eps).pow(2).mean().item()

    prior.train()
    prior.log_prob(x, sigma)  # ActNorm data init, as in training
    prior.eval()
    before = dsm_loss()
    log = train_prior(prior, ds, tmp_path / "sine", steps=40, batch_size=8, lr=3e-3, checkpoint_every=40,
                      dsm_weight=1.0, quiet=True)
    assert "dsm" in log[-1]
    assert dsm_loss() < 0.8 * before


def test_training_logs_checkpoints_and_resumes_exactly(tmp_path):
    ds = ToySourceCrops("sine", length=64, seed=0)
    full = tiny_flow()
    log = train_prior(full, ds, tmp_path / "a" / "sine", steps=6, batch_size=4, checkpoint_every=3, quiet=True)
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in log)
    assert (tmp_path / "a" / "sine.pt").is_file() and (tmp_path / "a" / "sine.train.pt").is_file()
    assert json.loads((tmp_path / "a" / "sine.json").read_text())["trained_steps"] == 6

    class Crash(Exception):
        pass

    class CrashingCrops(ToySourceCrops):  # the machine dies during step 5
        def __getitem__(self, i):
            if i >= 4 * 4:
                raise Crash
            return super().__getitem__(i)

    with pytest.raises(Crash):
        train_prior(tiny_flow(), CrashingCrops("sine", 64, 0), tmp_path / "b" / "sine", steps=6, batch_size=4,
                    checkpoint_every=3, quiet=True)
    assert json.loads((tmp_path / "b" / "sine.json").read_text())["trained_steps"] == 3
    resumed = tiny_flow(seed=123)  # different init: everything must come from the checkpoint
    log_b = train_prior(resumed, ds, tmp_path / "b" / "sine", steps=6, batch_size=4, checkpoint_every=3, quiet=True)
    assert [r["step"] for r in log_b] == [1, 2, 3, 4, 5, 6]
    for p, q in zip(full.parameters(), resumed.parameters()):
        torch.testing.assert_close(p, q)


def test_prior_set_carries_its_sampler_settings(tmp_path):
    """priorset.json's "langevin" settings are the set's defaults; explicit arguments win."""
    for name in ("sine", "square"):
        save_prior(tiny_flow(name), tmp_path / name)
    fast = {"space": "signal", "n_levels": 2, "steps_per_level": 1, "step_size": 0.1}
    (tmp_path / "priorset.json").write_text(json.dumps({"sources": ["sine", "square"], "langevin": fast}))
    ps = load_priors(tmp_path)
    assert ps.sampler == fast
    mix = np.sin(np.arange(64) / 3.0).astype(np.float32)
    a = langevin_separate(mix, priors=ps, seed=1)
    b = langevin_separate(mix, priors=PriorSet(ps.priors), seed=1, **fast)
    c = langevin_separate(mix, priors=ps, seed=1, step_size=0.2)
    assert all(np.array_equal(a[n], b[n]) for n in a)
    assert not np.array_equal(a["sine"], c["sine"])
    with pytest.raises(ValueError, match="constraint"):
        langevin_separate(mix, priors=ps, seed=1, constraint="nope")


def test_trim_log_drops_records_after_the_resumed_step(tmp_path):
    from priorsep.checkpoint import trim_log

    log = tmp_path / "x.log.jsonl"
    log.write_text("".join(json.dumps({"step": s, "loss": 0.0}) + "\n" for s in range(1, 8)))
    trim_log(log, 5)
    assert [json.loads(line)["step"] for line in log.read_text().splitlines()] == [1, 2, 3, 4, 5]
    trim_log(tmp_path / "missing.log.jsonl", 3)  # nothing to trim: no error


def test_checkpoints_record_their_module_and_the_registry_lists_the_core_families(tmp_path):
    from priorsep import registry
    from priorsep.baselines.io import baseline_kinds

    save_prior(tiny_flow(), tmp_path / "sine")
    cfg = json.loads((tmp_path / "sine.json").read_text())
    assert cfg["kind"] == "flow" and cfg["model_class"] == "FlowPrior" and cfg["module"] == "priorsep.priors.flow"
    assert {"flow", "wavenet", "gaussian"} <= set(registry.kinds("prior"))
    assert {"waveunet", "factorgan"} <= set(baseline_kinds()) <= set(registry.kinds("baseline"))
    assert {"Encoder", "MaskEncoder"} <= set(registry.kinds("encoder"))
    with pytest.raises(ValueError, match="already registered"):
        @registry.register("prior")
        class Impostor(torch.nn.Module):
            kind = "flow"
    with pytest.raises(ValueError, match="unknown model family"):
        registry.kinds("vocoder")


def test_unknown_kinds_and_untrusted_modules_are_checkpoint_errors(tmp_path):
    from priorsep.errors import CheckpointError

    save_prior(tiny_flow(), tmp_path / "sine")
    good = json.loads((tmp_path / "sine.json").read_text())
    cases = {"nothing recorded": ({"kind": "nope"}, "unknown prior kind 'nope'"),
             "standard library": ({"kind": "nope", "module": "antigravity"}, "standard-library"),
             "not importable": ({"kind": "nope", "module": "no_such_package_xyz.priors"}, "not importable"),
             "missing submodule": ({"kind": "nope", "module": "priorsep.no_such_module"}, "failed"),
             "not a module name": ({"kind": "nope", "module": "../evil"}, "not a module name"),
             "module without it": ({"kind": "nope", "module": "priorsep.priors.flow"}, "not defined in its module")}
    for what, (change, message) in cases.items():
        (tmp_path / "sine.json").write_text(json.dumps({**good, **change}))
        with pytest.raises(CheckpointError, match=message):
            load_prior(tmp_path / "sine")
    assert "antigravity" not in __import__("sys").modules


def test_a_user_family_loads_through_the_module_its_checkpoint_recorded(tmp_path, monkeypatch):
    import sys
    import textwrap

    from priorsep import registry

    name = "priorsep_test_user_prior"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent('''
        import torch
        from priorsep.priors.base import Prior
        from priorsep.registry import register

        @register("prior")
        class ScaledGaussian(Prior):
            kind = "test-scaled-gaussian"

            def __init__(self, config):
                super().__init__(config)
                self.scale = torch.nn.Parameter(torch.ones(()))

            def log_prob(self, x, sigma):
                return -0.5 * (x / self.scale).pow(2).sum(-1)
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = __import__(name)
        prior = module.ScaledGaussian(dict(source="a", sample_rate=8000))
        with torch.no_grad():
            prior.scale.fill_(2.0)
        save_prior(prior, tmp_path / "a")
        assert json.loads((tmp_path / "a.json").read_text())["module"] == name
        del registry._REGISTRY["prior"]["test-scaled-gaussian"], sys.modules[name]  # a fresh process
        back = load_prior(tmp_path / "a")
        assert type(back).__module__ == name and back.scale.detach().item() == 2.0
    finally:
        registry._REGISTRY["prior"].pop("test-scaled-gaussian", None)
        sys.modules.pop(name, None)


def test_encoders_write_mix_weights_and_bundled_encoders_with_the_old_key_still_load(tmp_path):
    from priorsep.encoders import Encoder, load_encoder, save_encoder
    from priorsep.priors.io import BUNDLED_DIR

    enc = Encoder([0.25, 0.75], hidden=4, levels=2)
    save_encoder(enc, tmp_path / "enc", {"sources": ["a", "b"]})
    cfg = json.loads((tmp_path / "enc.json").read_text())
    assert cfg["mix_weights"] == [0.25, 0.75] and "weights" not in cfg
    assert cfg["kind"] == "encoder" and cfg["model_class"] == "Encoder"
    assert cfg["module"] == "priorsep.encoders.networks"
    back = load_encoder(tmp_path / "enc")
    assert back.config["weights"] == [0.25, 0.75] and "mix_weights" not in back.config
    old = dict(cfg, weights=cfg.pop("mix_weights"))  # written before the rename: "weights", no "module"
    del old["module"]
    (tmp_path / "enc.json").write_text(json.dumps(old))
    assert load_encoder(tmp_path / "enc").config["weights"] == [0.25, 0.75]
    new = json.loads((BUNDLED_DIR / "toy-wavenet" / "encoder.json").read_text())  # rewritten since (its scale stage)
    assert "weights" not in new and new["module"] == "priorsep.encoders.networks"
    assert load_encoder(BUNDLED_DIR / "toy-wavenet" / "encoder").config["weights"] == new["mix_weights"]
    save_prior(tiny_flow(), tmp_path / "sine")
    with pytest.raises(ValueError, match="not an encoder checkpoint"):
        load_encoder(tmp_path / "sine")
