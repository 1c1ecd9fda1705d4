"""Variational draws that meet the mix: a mask encoder's per-bin logit scale, trained by the mask-space ELBO."""
import json
import math

import numpy as np
import pytest
import torch

from priorsep.encoders import (Encoder, EncoderDraws, MaskEncoder, encoder_draws, encoder_posterior, load_encoder,
                               save_encoder, with_bin_scale)
from priorsep.encoders.elbo import freeze, mask_elbo
from priorsep.errors import ConfigError
from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet


def _gaussian_set(variances=(1.0, 0.5), weights=(0.5, 0.5)):
    return PriorSet([GaussianPrior(dict(source=f"s{k}", sample_rate=8000, sigma_min=0.01, sigma_max=1.0, mix_weight=w,
                                        variance=v)) for k, (v, w) in enumerate(zip(variances, weights))])


def _bin_encoder(k: int = 2, seed: int = 0) -> MaskEncoder:
    torch.manual_seed(seed)
    enc = MaskEncoder([1.0 / k] * k, hidden=4, levels=2, n_fft=32, hop=8)
    torch.nn.init.normal_(enc.out.weight, std=1.0)  # means that depend on the mix
    return with_bin_scale(enc)


def test_a_bin_scale_copy_keeps_the_means_and_its_draws_meet_the_mix():
    enc = _bin_encoder(k=4)
    plain = MaskEncoder(**{k: v for k, v in enc.config.items() if k != "scale"})
    plain.load_state_dict({k: v for k, v in enc.state_dict().items() if not k.startswith("scale_head.")})
    mix = torch.randn(3, 200)
    torch.testing.assert_close(enc(mix)[0], plain(mix)[0])
    theta, log_tau, spec = enc.mask_posterior(mix)
    assert theta.shape == log_tau.shape == (3, 4, 17, spec.shape[-1])
    torch.testing.assert_close(log_tau, torch.full_like(log_tau, math.log(0.1)))  # starts at init_scale
    draws = enc.draw(mix, 5, torch.Generator().manual_seed(1))
    assert draws.shape == (5, 3, 4, 200)
    torch.testing.assert_close((0.25 * draws).sum(2), mix.expand(5, -1, -1), atol=1e-5, rtol=0)
    assert (draws - draws.mean(0)).abs().amax() > 1e-3  # they do differ
    again = enc.draw(mix, 5, torch.Generator().manual_seed(1))
    torch.testing.assert_close(draws, again, atol=0, rtol=0)
    with pytest.raises(ConfigError, match="no per-bin scale"):
        plain.mask_posterior(mix)
    with pytest.raises(ConfigError, match="scale must be one of"):
        MaskEncoder([0.5, 0.5], scale="pixel")


def test_long_mixes_draw_in_windows_and_still_meet_the_mix():
    enc = _bin_encoder(k=4).eval()
    enc.config["window"] = 256
    mix = torch.randn(2, 1000)
    draws = encoder_draws(enc, mix, 3, torch.Generator().manual_seed(0))
    assert draws.shape == (3, 2, 4, 1000)
    torch.testing.assert_close((0.25 * draws).sum(2), mix.expand(3, -1, -1), atol=1e-5, rtol=0)


def test_mask_elbo_trains_only_the_scale_and_widens_it_where_the_mix_is_silent():
    """In a bin without energy the masks change nothing, so the ELBO's entropy widens q there; where
    the mix has energy the priors hold the logits: tau ends far smaller on the tone than off it."""
    torch.manual_seed(0)
    priors = _gaussian_set()
    freeze(priors)
    enc = _bin_encoder(k=2)
    t = torch.arange(256, dtype=torch.float32)
    mix = 10 * torch.sin(2 * math.pi * 4 / 32 * t).expand(4, -1) * (1 + 0.2 * torch.rand(4, 1))  # a tone in bin 4
    means = enc(mix)[0].detach()
    opt = torch.optim.Adam(enc.parameters(), lr=3e-2)
    first = None
    for _ in range(60):
        loss = -mask_elbo(mix, priors, enc, 0.01, particles=2)
        opt.zero_grad()
        loss.backward()
        assert all(p.grad is None or p.grad.abs().sum() == 0 for n, p in enc.named_parameters()
                   if not n.startswith("scale_head."))
        opt.step()
        first = first if first is not None else -float(loss.detach())
    torch.manual_seed(1)
    with torch.no_grad():
        assert float(mask_elbo(mix, priors, enc, 0.01, particles=8)) > first + 10.0
    torch.testing.assert_close(enc(mix)[0], means)  # the means did not move
    log_tau = enc.mask_posterior(mix)[1].detach()  # (B, K, F, N)
    on_tone, silent = log_tau[:, :, 4].mean(), log_tau[:, :, 10:].mean()
    assert on_tone < silent - 1.0


def test_bin_scale_encoders_round_trip_and_old_configs_read_as_per_source(tmp_path):
    enc = _bin_encoder(k=2)
    torch.nn.init.normal_(enc.scale_head[-1].weight, std=0.5)
    save_encoder(enc, tmp_path / "enc", {"sources": ["s0", "s1"]})
    back = load_encoder(tmp_path / "enc")
    assert back.config["scale"] == "bin"
    mix = torch.randn(2, 100)
    for a, b in zip(enc.mask_posterior(mix), back.mask_posterior(mix)):
        torch.testing.assert_close(a, b)
    plain = MaskEncoder([0.5, 0.5], hidden=4, levels=2, n_fft=32, hop=8)
    save_encoder(plain, tmp_path / "old", {"sources": ["s0", "s1"]})
    config = json.loads((tmp_path / "old.json").read_text())
    del config["scale"]  # written before the setting existed
    (tmp_path / "old.json").write_text(json.dumps(config))
    old = load_encoder(tmp_path / "old")
    assert old.scale_head is None and old.config["scale"] == "source"


def test_variational_separator_draws_in_mask_space_with_a_bin_scale(tiny_toy_priors):
    import priorsep
    from priorsep.separation.separators import VariationalSeparator

    priors = priorsep.load_priors(tiny_toy_priors)
    torch.manual_seed(3)
    enc = MaskEncoder(priors.weights, hidden=4, levels=2, n_fft=256, hop=64)
    torch.nn.init.normal_(enc.out.weight, std=1.0)
    enc = with_bin_scale(enc).eval()
    sep = VariationalSeparator(priors, encoder=enc, seed=4)
    mix = np.random.default_rng(0).standard_normal(1500).astype(np.float32) * 0.3
    means, draws = sep.separate_with_draws(mix, 4)
    est = sep.separate(mix)
    for name in sep.names:
        np.testing.assert_allclose(means[name], est[name], atol=1e-6)
        assert draws[name].shape == (4, 1500)
    total = sum(w * draws[n] for w, n in zip(priors.weights, sep.names))
    np.testing.assert_allclose(total, np.broadcast_to(mix, (4, 1500)), atol=1e-5)
    again = sep.separate_with_draws(mix, 4)[1]
    for name in sep.names:
        np.testing.assert_array_equal(draws[name], again[name])


def test_aligned_draws_are_the_posteriors_of_the_delayed_mix_and_meet_it():
    """scale_factor 0: draw i is exactly the posterior mean of the mix delayed by its alignment's offset
    (the delay undone); the draws come alignment by alignment and every one meets the mix."""
    enc = _bin_encoder(k=3).eval()
    mix = torch.randn(2, 300)
    draws = encoder_draws(enc, mix, 5, settings=EncoderDraws(alignments=4, scale_factor=0.0))
    assert draws.shape == (5, 2, 3, 300)
    # 5 draws over 4 alignments: offsets 0, 0, 2, 4, 6 samples of the hop of 8, in that order
    for i, delay in enumerate((0, 0, 2, 4, 6)):
        expected = encoder_posterior(enc, torch.nn.functional.pad(mix, (delay, 0)))[0][..., delay:]
        torch.testing.assert_close(draws[i], expected, atol=1e-6, rtol=0)
    assert (draws[2] - draws[0]).abs().amax() > 1e-3  # the alignments disagree somewhere
    torch.testing.assert_close((draws / 3).sum(2), mix.expand(5, -1, -1), atol=1e-5, rtol=0)


def test_aligned_draws_scale_and_seed():
    enc = _bin_encoder(k=2).eval()
    mix = torch.randn(1, 200)
    own = encoder_draws(enc, mix, 3, torch.Generator().manual_seed(1))  # the encoder's own q
    torch.testing.assert_close(own, enc.draw(mix, 3, torch.Generator().manual_seed(1)), atol=1e-6, rtol=0)
    settings = EncoderDraws(alignments=1, scale_factor=0.5)
    half = encoder_draws(enc, mix, 3, torch.Generator().manual_seed(1), settings=settings)
    theta, log_tau, spec = enc.mask_posterior(mix)
    eps = torch.randn((3, *theta.shape), generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(half, enc.mask_draws(theta, log_tau, spec, 0.5 * eps, 200), atol=1e-6, rtol=0)
    again = encoder_draws(enc, mix, 3, torch.Generator().manual_seed(1), settings=settings)
    torch.testing.assert_close(half, again, atol=0, rtol=0)
    # a waveform encoder's alignments span its 2**levels grid; its stds scale the same way
    wave = Encoder([0.5, 0.5], hidden=4, levels=2).eval()
    assert wave.alignment_span == 4 and enc.alignment_span == enc.hop
    flat = encoder_draws(wave, torch.randn(1, 64), 4, settings=EncoderDraws(alignments=2, scale_factor=0.0))
    torch.testing.assert_close(flat[0], flat[1], atol=0, rtol=0)  # no spread within an alignment


@pytest.mark.parametrize("bad, match", [(dict(alignments=0), "alignments must be"),
                                        (dict(alignments=2.0), "alignments must be"),
                                        (dict(scale_factor=-0.1), "scale_factor must be"),
                                        (dict(scale_factor=float("nan")), "scale_factor must be")])
def test_encoder_draws_settings_are_checked(bad, match):
    with pytest.raises(ConfigError, match=match):
        EncoderDraws(**bad)


def test_draw_settings_go_to_their_own_method(tiny_toy_priors):
    import priorsep
    from priorsep.separation.draws import DrawSettings

    with pytest.raises(ConfigError, match="EncoderDraws"):
        priorsep.load_separator(tiny_toy_priors, "variational", draws=DrawSettings())
    with pytest.raises(ConfigError, match="not EncoderDraws"):
        priorsep.load_separator(tiny_toy_priors, "langevin", draws=EncoderDraws())
    with pytest.raises(ConfigError, match="alignments must be"):
        priorsep.load_separator(tiny_toy_priors, "variational", draws={"alignments": 0})


def test_train_posterior_cli_trains_a_bin_scale(tmp_path, tiny_toy_priors, capsys):
    from priorsep.cli import main

    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--data", "toy", "--architecture", "mask",
                 "--mask-scale", "--steps", "2", "--batch-size", "1", "--crop", "1024", "--hidden", "4",
                 "--levels", "2", "--quiet", "--sigma-start", "0.01", "--sigma-end", "0.01",
                 "--out", str(tmp_path / "enc")]) == 0
    enc = load_encoder(tmp_path / "enc")
    assert enc.scale_head is not None and "mask-space ELBO" in enc.config["training"]["objective"]
    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--data", "toy", "--mask-scale", "--steps", "1",
                 "--quiet", "--out", str(tmp_path / "unet")]) == 2
    assert "needs a mask encoder" in capsys.readouterr().err
    assert main(["train-posterior", "--priors", str(tiny_toy_priors), "--teacher", str(tmp_path), "--mask-scale",
                 "--quiet", "--out", str(tmp_path / "t")]) == 2
    assert "not by --teacher" in capsys.readouterr().err
    assert not (tmp_path / "unet.pt").exists() and not (tmp_path / "t.pt").exists()
