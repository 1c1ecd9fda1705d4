import json

import numpy as np
import pytest
import torch

from priorsep.baselines.factorgan import FactorGAN, FactorGANDiscriminators, log_filterbank
from priorsep.baselines.io import load_baseline, save_baseline
from priorsep.checkpoint import side_file
from priorsep.data.toy import TOY_SOURCES, ToyMixCrops, ToySourceCrops
from priorsep.mixing import mix
from priorsep.dsp.stft import istft, stft
from priorsep.training import factorgan as factorgan_training
from priorsep.training.factorgan import (auxiliary_negatives, shuffle_sources, train_factorgan,
                                         validation_si_sdri)

W = [0.25] * 4


def tiny(seed: int = 0, **kw) -> FactorGAN:
    """n_fft 64 (33 bins), discriminators on 16 log bands, 8-frame training crops (112 samples), a
    2-level generator U-Net."""
    torch.manual_seed(seed)
    cfg = dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=W, n_fft=64, hop=16,
               harmonic_kernel=5, levels=2, features=4, train_frames=8,
               disc_bands=16, disc_rows=8, disc_hidden=8, disc_features=4, disc_max_features=8)
    cfg.update(kw)
    return FactorGAN(cfg)


def random_generator(model: FactorGAN, seed: int = 1) -> FactorGAN:
    """Non-trivial masks: the output layer is zero-initialised (uniform masks) otherwise."""
    torch.manual_seed(seed)
    torch.nn.init.normal_(model.generator.out.weight, std=1.0)
    return model


def toy_data(model: FactorGAN, paired: int = 4):
    n = model.train_samples
    return [ToySourceCrops(s, n, seed=0) for s in TOY_SOURCES], ToyMixCrops(n, seed=0, size=paired)


def test_stft_round_trip():
    x = torch.randn(2, 3, 1000, dtype=torch.float64)
    spec = stft(x, 64, 16)
    assert spec.shape == (2, 3, 33, 1 + 1000 // 16) and spec.is_complex()
    torch.testing.assert_close(istft(spec, 64, 16, 1000), x)


def test_log_frequency_maps():
    bank = log_filterbank(512, 14700, 128, 14700 / 512)
    assert bank.shape == (128, 257) and (bank >= 0).all()
    torch.testing.assert_close(bank.sum(1), torch.ones(128))  # each band: a weighted mean of bins


@pytest.mark.parametrize("b, c, t", [(2, 1, 1000), (1, 2, 777), (1, 1, 50), (1, 1, 20)])
def test_separate_tensor_shapes_and_remix(b, c, t):
    model = random_generator(tiny()).eval()
    x = torch.randn(b, c, t)
    with torch.no_grad():
        est = model.separate_tensor(x)
    assert est.shape == (b, 4, c, t)
    # masks sum to one, so the estimates remix to the mix (STFT round-off only)
    remix = mix(est.transpose(1, 2), W)
    torch.testing.assert_close(remix, x, atol=1e-5, rtol=0)
    assert (est - est.mean(1, keepdim=True)).abs().max() > 1e-3  # the masks are not uniform


def test_masks_sum_to_one():
    model = random_generator(tiny()).eval()
    spec = model.spectrogram(torch.randn(3, 500))
    noise = torch.randn(3, model.rows, spec.shape[-1])
    with torch.no_grad():
        masks = model.masks(spec, noise)
    assert masks.shape == (3, 4, 33, spec.shape[-1])
    assert masks.min() >= 0
    torch.testing.assert_close(masks.sum(1), torch.ones(3, 33, spec.shape[-1]))


def test_separate_is_deterministic_and_round_trips(tmp_path):
    model = random_generator(tiny())
    m = np.random.default_rng(0).standard_normal(900).astype(np.float32)
    a, b = model.separate(m), model.separate(m)
    for k in model.names:
        assert a[k].shape == m.shape and a[k].dtype == np.float32
        np.testing.assert_array_equal(a[k], b[k])
    save_baseline(model, tmp_path / "fg")
    assert not any(key.startswith(("marginal", "p.", "q.")) for key in torch.load(tmp_path / "fg.pt"))
    c = load_baseline(tmp_path / "fg").separate(m)
    for k in model.names:
        np.testing.assert_array_equal(a[k], c[k])


def test_combined_logit_is_the_sum_of_sub_discriminators():
    model = tiny()
    torch.manual_seed(3)
    discs = FactorGANDiscriminators(model.config).eval()
    tup = discs.features(torch.rand(5, 4, 33, 8) * 10)
    assert tup.shape == (5, 4, 16, 8)
    with torch.no_grad():
        expected = discs.p(tup) - discs.q(tup) + sum(d(tup[:, k:k + 1]) for k, d in enumerate(discs.marginal))
        combined = discs.combined_logit(tup)
    assert combined.shape == (5,)
    torch.testing.assert_close(combined, expected)
    assert discs.p(tup).abs().max() > 0 and not torch.allclose(discs.p(tup), discs.q(tup))


def test_shuffle_sources_keeps_each_source_column():
    tup = torch.arange(6 * 4, dtype=torch.float32).reshape(6, 4, 1, 1)
    g = torch.Generator().manual_seed(0)
    sh = shuffle_sources(tup, g)
    assert torch.equal(sh[:, 0], tup[:, 0])
    for k in range(4):
        assert sorted(sh[:, k].flatten().tolist()) == sorted(tup[:, k].flatten().tolist())
    assert not torch.equal(sh, tup)


def test_auxiliary_negatives_are_other_sources_leaky_or_quiet_ones():
    b, k = 64, 4
    solo = torch.arange(1, k + 1, dtype=torch.float32)[None, :, None].repeat(b, 1, 3)  # source k is the constant k+1
    neg = auxiliary_negatives(solo, torch.Generator().manual_seed(0))
    assert neg.shape == solo.shape
    own = solo[..., 0]
    val = neg[..., 0]
    other = (val != own) & (val == val.round()) & (val <= k)  # another source's value
    leaky = (val > own) & ~other  # own + a * other with a in [0.1, 1]
    quiet = (val >= 0) & (val <= 0.5 * own)  # a * own with a in [0, 0.5]
    assert (other | leaky | quiet).all()
    assert other.any() and leaky.any() and quiet.any()
    assert not (val == own).any()  # never the clean source itself


def test_discriminator_warmup_leaves_the_generator_alone(tmp_path):
    model = tiny()
    solo, pairs = toy_data(model)
    before = [p.detach().clone() for p in model.parameters()]
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", steps=3, batch_size=4, d_warmup=3, aux_negatives=0.5,
                          checkpoint_every=3, quiet=True)
    assert [r["g"] for r in log] == [None, None, None]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert json.loads((tmp_path / "fg.json").read_text())["training"]["aux_negatives"] == 0.5


def test_marginal_discriminators_learn_with_a_frozen_generator(tmp_path):
    """The untrained generator outputs the mix for every source; real solo sources look different,
    so the marginal discriminators' loss must fall well below chance (ln 2) within 60 steps (with
    discriminators a little wider than the other tests': 8-16 channels, 32 hidden units)."""
    model = tiny(disc_features=8, disc_max_features=16, disc_hidden=32)
    solo, pairs = toy_data(model)
    before = [p.detach().clone() for p in model.parameters()]
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", steps=60, batch_size=8, lr=0.0, d_lr=3e-3,
                          d_steps=1, checkpoint_every=60, quiet=True)
    losses = [r["d_marginal"] for r in log]
    assert abs(losses[0] - np.log(2)) < 0.05
    assert np.mean(losses[-5:]) < 0.5
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # lr 0: G unchanged


def test_training_writes_checkpoints_and_resumes_exactly(tmp_path):
    kw = dict(steps=4, batch_size=4, lr=1e-3, d_lr=2e-3, seed=7, checkpoint_every=2, quiet=True, paired=4)
    model = tiny()
    solo, pairs = toy_data(model)
    log = train_factorgan(model, solo, pairs, tmp_path / "full", **kw)
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    for suffix in (".pt", ".json", ".train.pt", ".log.jsonl"):
        assert side_file(tmp_path / "full", suffix).is_file()
    cfg = json.loads((tmp_path / "full.json").read_text())
    assert cfg["kind"] == "factorgan" and cfg["trained_steps"] == 4 and cfg["training"]["paired"] == 4
    assert cfg["paired_items"] == 4  # the benchmark's "paired" column

    first = tiny()
    train_factorgan(first, solo, pairs, tmp_path / "cut", stop_after=2, **kw)
    assert json.loads((tmp_path / "cut.json").read_text())["trained_steps"] == 2
    resumed = tiny(seed=123)  # different init: everything must come from cut.train.pt
    log2 = train_factorgan(resumed, solo, pairs, tmp_path / "cut", **kw)
    assert [r["step"] for r in log2] == [1, 2, 3, 4]
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):  # the weight averages
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    full = torch.load(side_file(tmp_path / "full", ".train.pt"))
    cut = torch.load(side_file(tmp_path / "cut", ".train.pt"))
    for part in ("model", "discriminators"):
        for name in full[part]:
            torch.testing.assert_close(full[part][name], cut[part][name], rtol=0, atol=0, msg=f"{part}.{name}")
    assert not torch.equal(full["model"]["generator.out.weight"], full["ema"]["generator.out.weight"])


def test_training_on_paired_mixes(tmp_path):
    model = tiny()
    solo, pairs = toy_data(model)
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", steps=2, batch_size=4, mixes="paired",
                          checkpoint_every=2, quiet=True)
    assert len(log) == 2 and all(np.isfinite(r["g"]) for r in log)
    assert json.loads((tmp_path / "fg.json").read_text())["training"]["generator_mixes"] == "mixes of the paired items"
    with pytest.raises(ValueError, match="mixes"):
        train_factorgan(model, solo, pairs, tmp_path / "x", steps=1, mixes="bogus")
    for bad, named in ((dict(aux_negatives=1.0), "aux_negatives < 1 (got 1.0)"), (dict(d_steps=0), "d_steps >= 1"),
                       (dict(d_warmup=-1), "d_warmup >= 0"),
                       (dict(supervised_steps=-1), "supervised_steps >= 0"),
                       (dict(supervised_steps=1, d_warmup=1), "(got 1 + 1 > 1"),
                       (dict(supervised_weight=-1.0), "supervised_weight >= 0")):
        with pytest.raises(ValueError) as err:
            train_factorgan(model, solo, pairs, tmp_path / "x", steps=1, **bad)
        assert named in str(err.value) and str(err.value).count("(got") == 1  # the failing condition only
    assert not side_file(tmp_path / "x", ".train.pt").exists()


def test_supervised_warm_start_fits_the_stems_then_hands_over(tmp_path):
    """Stage 1 (generator alone) lowers the MSE to the paired stems; stage 2 trains the
    discriminators alone; stage 3 both, adversarially."""
    model = tiny()
    solo, pairs = toy_data(model, paired=2)
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", steps=45, batch_size=4, d_warmup=2,
                          supervised_steps=40, supervised_lr=1e-2, checkpoint_every=45, quiet=True)
    assert [r["supervised_mse"] is not None for r in log] == [True] * 40 + [False] * 5
    assert [r["d_marginal"] is not None for r in log] == [False] * 40 + [True] * 5
    assert [r["g"] is not None for r in log] == [False] * 42 + [True] * 3
    mse = [r["supervised_mse"] for r in log[:40]]
    assert np.mean(mse[-5:]) < 0.85 * np.mean(mse[:5]), (mse[:5], mse[-5:])
    training = json.loads((tmp_path / "fg.json").read_text())["training"]
    assert training["supervised_steps"] == 40 and training["paired"] == 2


def test_supervised_anchor_in_the_adversarial_stage(tmp_path):
    """With ``supervised_weight`` the adversarial updates also fit the stems: both losses are logged,
    and the generator moves differently than without it (same seed, same data)."""
    runs = {}
    for weight in (0.0, 5.0):
        model = tiny()
        solo, pairs = toy_data(model, paired=2)
        log = train_factorgan(model, solo, pairs, tmp_path / f"w{weight}", steps=4, batch_size=4, lr=1e-2, d_warmup=1,
                              supervised_steps=1, supervised_weight=weight, checkpoint_every=4, quiet=True)
        runs[weight] = model.generator.out.weight.detach().clone()
        assert [r["g"] is not None for r in log] == [False, False, True, True]
        assert [r["supervised_mse"] is not None for r in log] == [True, False] + [weight > 0] * 2
    assert not torch.equal(runs[0.0], runs[5.0])


def test_validation_score_of_uniform_masks_is_zero():
    """The untrained generator's masks are uniform: every estimate is exactly the mix, an SI-SDRi of 0 dB."""
    model = tiny()
    assert validation_si_sdri(model, ToyMixCrops(300, seed=5, size=3), batch_size=2) == pytest.approx(0, abs=1e-3)


def test_validation_keeps_the_best_weight_average_across_a_resume(tmp_path, monkeypatch):
    scripted = iter([1.0, 3.0, 2.0])
    monkeypatch.setattr(factorgan_training, "validation_si_sdri", lambda *a, **k: next(scripted))
    kw = dict(steps=6, batch_size=4, lr=1e-3, seed=3, checkpoint_every=2, quiet=True, val_set=ToyMixCrops(300, size=2))
    model = tiny()
    solo, pairs = toy_data(model)
    train_factorgan(model, solo, pairs, tmp_path / "fg", stop_after=4, **kw)
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", **kw)  # resumed: must remember the best (3.0)
    assert [r.get("val_si_sdri") for r in log if r["step"] % 2 == 0] == [1.0, 3.0, 2.0]
    cfg = json.loads((tmp_path / "fg.json").read_text())
    assert cfg["trained_steps"] == 4 and cfg["val_si_sdri"] == 3.0
    reference = tiny()  # the same run without validation, cut at step 4: its weight average is the best one
    train_factorgan(reference, solo, pairs, tmp_path / "ref", **{**kw, "val_set": None, "stop_after": 4})
    for (name, a), b in zip(reference.state_dict().items(), model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_cli_trains_factorgan_with_the_gan_options(tmp_path):
    from priorsep.cli import main

    out = tmp_path / "fg"
    assert main(["train-baseline", "--model", "factorgan", "--data", "toy", "--steps", "3", "--batch-size", "2",
                 "--levels", "2", "--features", "4", "--paired", "3", "--d-lr", "1e-3",
                 "--aux-negatives", "0.5", "--d-warmup", "1", "--supervised-steps", "1", "--supervised-lr", "1e-2",
                 "--supervised-weight", "2", "--val-items", "2", "--checkpoint-every", "1", "--out", str(out),
                 "--quiet"]) == 0
    cfg = json.loads((tmp_path / "fg.json").read_text())
    assert cfg["kind"] == "factorgan" and cfg["trained_steps"] in (1, 2, 3) and cfg["training"]["paired"] == 3
    assert {k: cfg["training"][k] for k in ("d_lr", "d_penalty", "aux_negatives", "d_warmup", "supervised_steps",
                                            "supervised_lr", "supervised_weight")} == dict(
        d_lr=1e-3, d_penalty=None, aux_negatives=0.5, d_warmup=1, supervised_steps=1, supervised_lr=1e-2,
        supervised_weight=2.0)
    assert cfg["training"]["discriminators"] == "FactorGANDiscriminators"
    assert "2 paired items" in cfg["training"]["validation_data"] and np.isfinite(cfg["val_si_sdri"])
    est = load_baseline(out).separate(np.zeros(3000, np.float32) + np.sin(np.arange(3000) / 5).astype(np.float32))
    assert set(est) == set(TOY_SOURCES) and all(v.shape == (3000,) for v in est.values())


def test_cli_factorgan_defaults_are_the_bundled_recipe(tmp_path, monkeypatch):
    from priorsep import baselines
    from priorsep.cli import TRAIN_BASELINE_DEFAULTS, main

    seen = {}

    def record(model, solo, pairs, out, **kw):  # the CLI's call, without the training
        seen.update(kw)
        save_baseline(model, out)

    monkeypatch.setattr(factorgan_training, "train_factorgan", record)
    assert main(["train-baseline", "--model", "factorgan", "--data", "toy", "--levels", "2", "--features", "4",
                 "--paired", "3", "--val-items", "0", "--out", str(tmp_path / "fg"), "--quiet"]) == 0
    recipe = TRAIN_BASELINE_DEFAULTS["factorgan"]
    assert {k: seen[k] for k in recipe} == recipe
    bundled = baselines.load("factorgan-toy").config["training"]  # what factorgan-toy was trained with
    assert {k: bundled[k] for k in recipe} == recipe


def test_cli_factorgan_stages_longer_than_steps_are_an_error(tmp_path, capsys):
    from priorsep.cli import main

    # --steps 3 with the default stages (2000 supervised + 100 discriminator-only steps)
    assert main(["train-baseline", "--model", "factorgan", "--data", "toy", "--steps", "3", "--levels", "2",
                 "--features", "4", "--paired", "3", "--val-items", "0", "--out", str(tmp_path / "fg"), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert "d_warmup + supervised_steps <= steps (got 100 + 2000 > 3" in err
    assert not (tmp_path / "fg.pt").exists()


def test_the_core_discriminators_refuse_the_experimental_feature_options():
    for key in ("disc_level", "disc_level_free"):
        with pytest.raises(ValueError, match=f"{key}: experimental"):
            FactorGANDiscriminators(tiny(**{key: True}).config)
    FactorGANDiscriminators(tiny(disc_level=None, disc_level_free=False).config)  # as factorgan-toy records them


def test_benchmark_row_says_whether_training_fitted_the_stems():
    from priorsep import baselines
    from priorsep.evaluation.benchmark import benchmark_methods

    adversarial = tiny()
    adversarial.config["training"] = {"supervised_steps": 0, "supervised_weight": 0.0}
    anchored = tiny()
    anchored.config["training"] = {"supervised_steps": 0, "supervised_weight": 2.0}
    assert (adversarial.label, anchored.label) == ("FactorGAN", "FactorGAN+supervised")
    assert baselines.load("factorgan-toy").label == "FactorGAN+supervised"
    rows = benchmark_methods([adversarial, baselines.load("waveunet-toy")], list(TOY_SOURCES), W)
    assert {"FactorGAN", "Wave-U-Net"} <= set(rows)
