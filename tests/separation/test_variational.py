"""Variational separation: the Pyro ELBO matches its closed form on Gaussian priors; SVI steps raise it."""
import math

import pyro
import pytest
import torch
from torch import nn

from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet
from priorsep.encoders import Encoder
from priorsep.encoders.elbo import PriorDistribution, elbo, freeze


def _gaussian_set(variances=(1.0, 0.5), weights=(0.5, 0.5)):
    return PriorSet([GaussianPrior(dict(source=f"s{k}", sample_rate=8000, sigma_min=0.01, sigma_max=1.0, mix_weight=w,
                                        variance=v)) for k, (v, w) in enumerate(zip(variances, weights))])


class FixedGuide(nn.Module):
    """q(s_k) = N(mu_k, tau_k^2) independent of the mix."""

    def __init__(self, mu, tau):
        super().__init__()
        self.mu, self.tau = nn.Parameter(mu), nn.Parameter(tau)

    def forward(self, mix):
        return self.mu.expand(mix.shape[0], -1, -1), self.tau.expand(mix.shape[0], -1, -1)


def closed_form(mix, priors, mu, tau, sigma, gamma):
    total = 0.0
    w = torch.tensor(priors.weights, dtype=torch.float64)
    for b in range(mix.shape[0]):
        for k, p in enumerate(priors):
            a = float(p.variance) + sigma**2
            total += (-0.5 * mu.shape[-1] * math.log(2 * math.pi * a)
                      - ((mu[k] ** 2).sum() + (tau[k] ** 2).sum()) / (2 * a))
            total += (0.5 * torch.log(2 * math.pi * math.e * tau[k] ** 2)).sum()
        resid = mix[b] - (w[:, None] * mu).sum(0)
        total += (-0.5 * mix.shape[-1] * math.log(2 * math.pi * gamma**2)
                  - ((resid**2).sum() + ((w[:, None] ** 2) * tau**2).sum()) / (2 * gamma**2))
    return float(total)


def test_elbo_matches_closed_form_on_gaussian_priors():
    torch.manual_seed(0)
    priors = _gaussian_set()
    for p in priors:
        p.double()
    t = 8
    mix = torch.randn(2, t, dtype=torch.float64)
    mu = torch.randn(2, t, dtype=torch.float64) * 0.5
    tau = 0.2 + torch.rand(2, t, dtype=torch.float64) * 0.5
    sigma, gamma = 0.3, 0.7
    guide = FixedGuide(mu.clone(), tau.clone()).double()
    pyro.set_rng_seed(0)
    est = float(elbo(mix, priors, guide, sigma, gamma, particles=20000).detach())
    exact = closed_form(mix, priors, mu, tau, sigma, gamma)
    assert est == pytest.approx(exact, rel=2e-3, abs=0.05)
    # tie_scale: q's std is sigma, whatever the encoder's scale
    pyro.set_rng_seed(0)
    est = float(elbo(mix, priors, guide, sigma, gamma, particles=20000, tie_scale=True).detach())
    tied = closed_form(mix, priors, mu, torch.full_like(tau, sigma), sigma, gamma)
    assert est == pytest.approx(tied, rel=2e-3, abs=0.05) and abs(tied - exact) > 1.0


def _svi_steps(enc, priors, mix, steps: int = 30) -> tuple[float, float]:
    """The ELBO of ``mix`` (64 draws) before and after ``steps`` Adam steps on 4-draw estimates."""
    opt = torch.optim.Adam(enc.parameters(), lr=3e-2)
    before = float(elbo(mix, priors, enc, 0.1, 0.5, particles=64).detach())
    for _ in range(steps):
        loss = -elbo(mix, priors, enc, 0.1, 0.5, particles=4)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return before, float(elbo(mix, priors, enc, 0.1, 0.5, particles=64).detach())


def test_svi_steps_raise_the_elbo_of_a_tiny_encoder():
    torch.manual_seed(1)
    pyro.set_rng_seed(1)
    priors = _gaussian_set()
    freeze(priors)
    enc = Encoder(priors.weights, hidden=4, levels=2)
    before, after = _svi_steps(enc, priors, torch.randn(4, 32))
    assert after > before + 1.0
    assert all(p.grad is None for p in priors.priors[0].parameters())  # the priors stay frozen


def test_encoder_starts_on_the_mixing_constraint():
    enc = Encoder([0.25] * 4, hidden=4, levels=3)
    mix = torch.randn(3, 64)
    loc, scale = enc(mix)
    assert loc.shape == scale.shape == (3, 4, 64)
    torch.testing.assert_close((0.25 * loc).sum(1), mix)
    assert torch.all(scale > 0)


def test_prior_distribution_shapes():
    p = _gaussian_set().priors[0]
    d = PriorDistribution(p, 0.2, 3, 16)
    x = torch.randn(5, 3, 16)
    assert d.log_prob(x).shape == (5, 3)
    assert d.sample().shape == (3, 16) and d.expand((5, 3)).batch_shape == (5, 3)


def test_encoder_round_trips_and_separates(tmp_path, tiny_toy_priors):
    import numpy as np

    import priorsep
    from priorsep.data.toy import toy_eval_set
    from priorsep.errors import SampleRateError, UnknownNameError
    from priorsep.encoders import load_encoder, save_encoder
    from priorsep import variational_separate

    priors = priorsep.load_priors(tiny_toy_priors)
    torch.manual_seed(3)
    enc = Encoder(priors.weights, hidden=4, levels=2)
    torch.nn.init.normal_(enc.out.weight, std=0.1)
    save_encoder(enc, tmp_path / "enc", {"sources": priors.names, "sample_rate": priors.sample_rate})
    back = load_encoder(tmp_path / "enc", priors)
    mix = toy_eval_set(1, 203, seed=1).mixes[0]  # not a multiple of the encoder's 4: padded and cut
    a = variational_separate(mix, priors, encoder=enc)
    b = variational_separate(mix, priors, encoder=str(tmp_path / "enc"))
    assert set(a) == set(priors.names)
    for name in a:
        assert a[name].shape == mix.shape
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=1e-6)
    own_q = dict(alignments=1, scale_factor=1.0)
    means, draws = variational_separate(np.stack([mix, mix]), priors, encoder=back, samples=64, seed=0, draws=own_q)
    assert means["sine"].shape == (2, 203) and draws["sine"].shape == (64, 2, 203)
    # with one alignment and the stds as trained, the draws are the encoder's posterior N(loc, scale^2):
    # standardised, they are N(0, 1) noise, fresh for each channel (the two channels are the same mix) and each draw
    from priorsep.encoders.posterior import encoder_posterior

    loc, scale = (t.numpy() for t in encoder_posterior(back, torch.from_numpy(np.stack([mix, mix]))))
    z = np.stack([(draws[n] - loc[:, k]) / scale[:, k] for k, n in enumerate(priors.names)])  # (K, 64, 2, 203)
    np.testing.assert_allclose(np.stack([means[n] for n in priors.names], 1), loc, rtol=0, atol=1e-6)
    n = z.size
    assert abs(z.mean()) < 5 / np.sqrt(n) and abs(z.var() - 1) < 5 * np.sqrt(2 / n), (z.mean(), z.var())
    assert abs(np.corrcoef(z[:, :, 0].ravel(), z[:, :, 1].ravel())[0, 1]) < 5 / np.sqrt(n / 2)
    same = variational_separate(np.stack([mix, mix]), priors, encoder=back, samples=64, seed=0, draws=own_q)[1]
    np.testing.assert_array_equal(same["sine"], draws["sine"])
    with pytest.raises(UnknownNameError, match="has no encoder"):
        variational_separate(mix, priors)
    cfg = (tmp_path / "enc.json").read_text().replace("14700", "16000")
    (tmp_path / "enc.json").write_text(cfg)
    with pytest.raises(SampleRateError):
        load_encoder(tmp_path / "enc", priors)


def test_train_posterior_cli_resumes_and_separate_uses_the_encoder(tmp_path, tiny_toy_priors, capsys):
    import json

    from priorsep.cli import main
    from priorsep.data.audio import read_audio, write_audio
    from priorsep.data.toy import toy_eval_set

    pri = tmp_path / "pri"
    import shutil

    shutil.copytree(tiny_toy_priors, pri)
    args = ["train-posterior", "--priors", str(pri), "--data", "toy", "--steps", "4", "--batch-size", "2",
            "--crop", "64", "--hidden", "4", "--levels", "2", "--checkpoint-every", "2", "--quiet", "--out", f"{pri}/"]
    assert main(args) == 0
    cfg = json.loads((pri / "encoder.json").read_text())
    assert cfg["kind"] == "encoder" and cfg["trained_steps"] == 4 and "no stems" in cfg["training"]["objective"]
    assert len((pri / "encoder.log.jsonl").read_text().splitlines()) == 4
    assert main(args) == 2 and "--resume" in capsys.readouterr().err  # never overwritten silently
    write_audio(tmp_path / "mix.wav", toy_eval_set(1, 300, seed=2).mixes[0], 14700)
    assert main(["separate", str(tmp_path / "mix.wav"), "--method", "variational", "--priors", str(pri), "--out",
                 str(tmp_path / "sep"), "--quiet"]) == 0
    audio, rate = read_audio(tmp_path / "sep" / "triangle.wav")
    assert rate == 14700 and audio.shape == (1, 300)


def test_langevin_hybrid_starts_from_the_encoder_means(tiny_toy_priors):
    import numpy as np

    import priorsep
    from priorsep.data.toy import toy_eval_set
    from priorsep.errors import UnknownNameError
    from priorsep.separation.langevin import _project
    from priorsep.encoders import encoder_means

    priors = priorsep.load_priors(tiny_toy_priors)
    torch.manual_seed(4)
    enc = Encoder(priors.weights, hidden=4, levels=2)
    torch.nn.init.normal_(enc.out.weight, std=0.3)
    mix = toy_eval_set(1, 128, seed=6).mixes[0]
    # no movement: a vanishing step and noise level, no final denoising
    still = dict(init="variational", sigma_max=1e-7, sigma_min=1e-7, n_levels=1, steps_per_level=1, step_size=1e-9,
                 denoise=False)
    out = priorsep.langevin_separate(mix, priors=priors, encoder=enc, seed=0, **still)
    m = torch.from_numpy(mix)[None]
    start = _project(encoder_means(enc, m), torch.tensor(priors.weights), m)[0]
    for k, name in enumerate(priors.names):
        np.testing.assert_allclose(out[name], start[k].numpy(), atol=1e-5)
    assert not np.allclose(out["sine"], mix)  # not the mixture init
    with pytest.raises(UnknownNameError, match="has no encoder"):
        priorsep.langevin_separate(mix, priors=priors, seed=0, **still)


def test_bench_gains_variational_and_hybrid_rows_for_a_set_with_an_encoder(tmp_path, tiny_toy_priors):
    import shutil

    import priorsep
    from priorsep.api import benchmark_separators
    from priorsep.evaluation.toy_benchmark import bench_toy
    from priorsep.encoders import save_encoder

    pri = tmp_path / "pri"
    shutil.copytree(tiny_toy_priors, pri)
    priors = priorsep.load_priors(pri)
    save_encoder(Encoder(priors.weights, hidden=4, levels=2), pri / "encoder",
                 {"sources": priors.names, "sample_rate": priors.sample_rate})
    quick = dict(space="signal", n_levels=1, steps_per_level=1)
    res = bench_toy(benchmark_separators([str(pri)], [], **quick), n=1, length=2048, bss=False, quiet=True)
    assert {"Langevin-flow", "variational-flow", "Langevin-flow+var. init"} <= set(res["methods"])
    res = bench_toy(benchmark_separators([str(tiny_toy_priors)], [], **quick), n=1, length=2048, bss=False, quiet=True)
    assert "variational-flow" not in res["methods"]  # no encoder, no row
    # a set whose default already starts from its encoder: that row is the hybrid, so no second one
    rows = benchmark_separators([str(pri)], [], **{**quick, "init": "variational"})
    assert [sep.label for sep in rows] == ["Langevin-flow+var. init", "variational-flow"]


def test_encoder_means_over_alignments_average_the_delayed_estimates_and_meet_the_mix():
    from priorsep.encoders import MaskEncoder, encoder_means, encoder_posterior
    from priorsep.errors import ConfigError

    torch.manual_seed(0)
    enc = MaskEncoder([0.25] * 4, hidden=4, levels=3, n_fft=64, hop=16)
    torch.nn.init.normal_(enc.out.weight, std=1.0)  # masks that differ from frame to frame
    mix = torch.randn(2, 300)
    one = encoder_means(enc, mix)
    torch.testing.assert_close(one, encoder_posterior(enc, mix)[0], rtol=0, atol=0)  # 1: the encoder's own means
    delayed = encoder_posterior(enc, torch.nn.functional.pad(mix, (enc.alignment_span // 2, 0)))[0]
    two = encoder_means(enc, mix, 2)
    torch.testing.assert_close(two, (one + delayed[..., enc.alignment_span // 2:]) / 2)
    assert (two - one).abs().max() > 1e-3  # the grid moved: another estimate
    torch.testing.assert_close(0.25 * two.sum(1), mix, atol=1e-5, rtol=1e-4)  # an average of splits of the mix
    with pytest.raises(ConfigError, match="alignments"):
        encoder_means(enc, mix, 0)


def test_mask_encoder_means_meet_the_mix_and_start_at_the_minimum_norm_split():
    from priorsep.errors import ConfigError
    from priorsep.encoders import MaskEncoder

    torch.manual_seed(0)
    for w, harmonics in (([0.25] * 4, (1.0,)), ([1.0, 0.5], (0.5, 1.0, 3.0))):
        enc = MaskEncoder(w, hidden=4, levels=3, n_fft=64, hop=16, harmonics=harmonics, position=len(harmonics) > 1)
        mix = torch.randn(3, 200)
        loc, scale = enc(mix)
        assert loc.shape == scale.shape == (3, len(w), 200) and torch.all(scale > 0)
        wt = torch.tensor(w)
        torch.testing.assert_close(wt[:, None] * loc, wt[:, None] ** 2 / (wt**2).sum() * mix[:, None], atol=1e-5,
                                   rtol=1e-4)  # the minimum-norm split w_k m / |w|^2 ...
        torch.nn.init.normal_(enc.out.weight, std=1.0)  # ... and, whatever the logits, the mix
        loc2, _ = enc(mix)
        assert (loc2 - loc).abs().max() > 1e-2
        torch.testing.assert_close((wt[:, None] * loc2).sum(1), mix, atol=1e-5, rtol=1e-4)
    with pytest.raises(ConfigError, match="must exceed n_fft / 2"):
        enc(torch.randn(1, 30))
    with pytest.raises(ConfigError, match="hop"):
        MaskEncoder([0.5, 0.5], n_fft=64, hop=40)
    with pytest.raises(ConfigError, match="harmonics"):
        MaskEncoder([0.5, 0.5], harmonics=(0.0, 1.0))


def test_harmonic_channels_read_the_power_at_multiples_of_each_bin():
    from priorsep.nn.harmonic_unet import harmonic_stack

    feat = torch.randn(2, 33, 5)
    x = harmonic_stack(feat, (0.5, 1.0, 2.0, 3.0), position=True)
    assert x.shape == (2, 5, 33, 5)
    torch.testing.assert_close(x[:, 1], feat)
    torch.testing.assert_close(x[:, 0, ::2], feat[:, :17])  # bin 2j at half its frequency: bin j
    torch.testing.assert_close(x[:, 0, 1::2], 0.5 * (feat[:, :16] + feat[:, 1:17]))  # halfway between bins
    torch.testing.assert_close(x[:, 2, :17], feat[:, ::2])
    torch.testing.assert_close(x[:, 3, :11], feat[:, ::3])
    silence = feat.amin((1, 2))[:, None, None].expand(-1, 10, 5)
    torch.testing.assert_close(x[:, 3, 11:21], silence)  # above Nyquist
    torch.testing.assert_close(x[:, 4, :, 0], torch.linspace(0, 1, 33).expand(2, -1))


def test_mask_encoder_svi_steps_raise_the_elbo_and_it_round_trips(tmp_path):
    from priorsep.errors import CheckpointError
    from priorsep.encoders import MaskEncoder, load_encoder, save_encoder

    torch.manual_seed(2)
    pyro.set_rng_seed(2)
    priors = _gaussian_set()
    freeze(priors)
    enc = MaskEncoder(priors.weights, hidden=4, levels=2, n_fft=32, hop=8, harmonics=(0.5, 1.0, 2.0), position=True)
    mix = torch.randn(4, 64)
    before, after = _svi_steps(enc, priors, mix)
    assert after > before + 1.0
    save_encoder(enc, tmp_path / "enc", {"sources": priors.names})
    back = load_encoder(tmp_path / "enc")
    assert isinstance(back, MaskEncoder) and {k: back.config[k] for k in enc.config} == enc.config
    assert back.config["model_class"] == "MaskEncoder" and back.config["sources"] == priors.names
    for a, b in zip(enc.eval()(mix), back(mix)):
        torch.testing.assert_close(a, b)
    good = (tmp_path / "enc.json").read_text()
    (tmp_path / "enc.json").write_text(good.replace('"MaskEncoder"', '"Transformer"'))
    with pytest.raises(CheckpointError, match="unknown encoder class"):
        load_encoder(tmp_path / "enc")
    (tmp_path / "enc.json").write_text(good.replace('"n_fft"', '"nfft"'))
    with pytest.raises(CheckpointError, match="lacks or mangles"):
        load_encoder(tmp_path / "enc")


def test_train_posterior_cli_trains_a_mask_encoder(tmp_path, tiny_toy_priors):
    from priorsep.cli import main
    from priorsep.encoders import MaskEncoder, load_encoder

    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--data", "toy", "--architecture", "mask",
                 "--steps", "2", "--batch-size", "1", "--crop", "1024", "--hidden", "4", "--levels", "2", "--quiet",
                 "--harmonics", "0.5,1,2", "--position", "--out", str(tmp_path / "enc")]) == 0
    enc = load_encoder(tmp_path / "enc")
    assert isinstance(enc, MaskEncoder) and enc.harmonics == (0.5, 1.0, 2.0) and enc.position
    with pytest.raises(SystemExit):
        main(["train-posterior", "--data", "toy", "--harmonics", "0,1", "--out", str(tmp_path / "e2")])


def test_encoder_posterior_runs_in_training_windows_and_pads_short_mixes():
    from priorsep.errors import ConfigError
    from priorsep.encoders import MaskEncoder, encoder_posterior

    torch.manual_seed(0)
    enc = MaskEncoder([0.25] * 4, hidden=4, levels=2)  # n_fft 1024: needs more than 512 samples
    torch.nn.init.normal_(enc.out.weight, std=1.0)
    enc.eval()
    with pytest.raises(ConfigError, match="must exceed"):
        encoder_posterior(enc, torch.randn(2, 300))  # no training window recorded: run as is
    enc.config["window"] = 2048
    for t in (300, 5000):  # shorter than the window: padded to it; longer: overlap-added windows
        mix = torch.randn(2, t)
        loc, scale = encoder_posterior(enc, mix)
        assert loc.shape == scale.shape == (2, 4, t)
        torch.testing.assert_close(0.25 * loc.sum(1), mix, atol=1e-4, rtol=1e-4)  # the means still meet the mix
    mix = torch.randn(1, 2048)  # exactly one window: the encoder's own output
    torch.testing.assert_close(encoder_posterior(enc, mix)[0], enc(mix)[0])


def test_a_mask_encoder_object_drives_variational_and_hybrid_separation(tiny_toy_priors):
    import numpy as np

    import priorsep
    from priorsep.data.toy import toy_eval_set
    from priorsep.encoders import MaskEncoder, encoder_means
    from priorsep import variational_separate

    priors = priorsep.load_priors(tiny_toy_priors)
    torch.manual_seed(1)
    enc = MaskEncoder(priors.weights, hidden=4, levels=2).eval()
    torch.nn.init.normal_(enc.out.weight, std=1.0)
    mix = toy_eval_set(1, 1024, seed=5).mixes[0]
    est = variational_separate(mix, priors, encoder=enc)  # an object, not a checkpoint stem
    means = encoder_means(enc, torch.from_numpy(mix)[None])[0].numpy()
    np.testing.assert_allclose(est["square"], means[1], atol=1e-6)
    still = dict(init="variational", sigma_max=1e-7, sigma_min=1e-7, n_levels=1, steps_per_level=1, step_size=1e-9,
                 denoise=False)
    out = priorsep.langevin_separate(mix, priors=priors, encoder=enc, seed=0, **still)
    assert abs(out["square"] - means[1]).max() < 1e-3
