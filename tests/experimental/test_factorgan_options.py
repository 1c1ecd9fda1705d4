"""FactorGAN's experimental training options (priorsep.experimental.factorgan): level-free and
level-row discriminator features, the R1 penalty."""
import json

import torch

from priorsep.baselines.factorgan import FactorGANDiscriminators
from priorsep.experimental.factorgan import LevelFeatureDiscriminators, R1Penalty, discriminators_for
from priorsep.training.factorgan import train_factorgan

from ..baselines.test_factorgan import tiny, toy_data


def test_level_free_discriminator_features_ignore_each_sources_level():
    model = tiny(disc_level_free=True)
    discs = LevelFeatureDiscriminators(model.config)
    mag = torch.rand(3, 4, 33, 8)
    gains = torch.tensor([1.0, 0.01, 5.0, 1e-3])[None, :, None, None]
    torch.testing.assert_close(discs.features(mag * gains), discs.features(mag), rtol=1e-4, atol=1e-5)
    absolute = FactorGANDiscriminators(tiny().config)
    assert not torch.allclose(absolute.features(mag * gains), absolute.features(mag))


def test_level_row_is_the_log_amplitude_of_a_sinusoid_and_reaches_the_logits():
    model = tiny(disc_level=True)
    torch.manual_seed(3)
    discs = LevelFeatureDiscriminators(model.config).eval()
    t = torch.arange(model.train_samples) / 14700
    amps = torch.tensor([0.9, 0.0, 0.3, 1.0])
    x = amps[:, None] * torch.sin(2 * torch.pi * torch.tensor([1000.0, 500.0, 2000.0, 3000.0])[:, None] * t)
    feats = discs.features(model.source_magnitudes(x[None]))
    assert feats.shape == (1, 4, 17, 8)  # 16 bands + the level row
    level = feats[0, :, -1, 2:-2].mean(-1)  # frames away from the (reflect-padded) edges
    torch.testing.assert_close(level, torch.log(1e-3 + amps), atol=0.05, rtol=0)
    with torch.no_grad():  # the level row changes the logit through the head, bands held fixed
        louder = feats.clone()
        louder[..., -1, :] += 3.0
        assert not torch.allclose(discs.marginal_logits(feats), discs.marginal_logits(louder))
        expected = discs.p(feats) - discs.q(feats) + sum(d(feats[:, k:k + 1]) for k, d in enumerate(discs.marginal))
        torch.testing.assert_close(discs.combined_logit(feats), expected)


def test_the_options_pick_their_discriminators_and_train(tmp_path):
    assert discriminators_for(tiny().config) is FactorGANDiscriminators
    model = tiny(disc_level=True)
    assert discriminators_for(model.config) is LevelFeatureDiscriminators
    solo, pairs = toy_data(model)
    log = train_factorgan(model, solo, pairs, tmp_path / "fg", steps=2, batch_size=4, checkpoint_every=2, quiet=True,
                          discriminators=LevelFeatureDiscriminators, d_penalty=R1Penalty(0.5))
    assert len(log) == 2 and all(torch.isfinite(torch.tensor(r["d_marginal"])) for r in log)
    training = json.loads((tmp_path / "fg.json").read_text())["training"]
    assert training["discriminators"] == "LevelFeatureDiscriminators"
    assert training["d_penalty"] == "R1Penalty(gamma=0.5)"


def test_r1_penalty_is_half_gamma_times_the_squared_input_gradient():
    x = torch.randn(3, 2, 4, requires_grad=True)
    y = torch.randn(3, 5, requires_grad=True)
    logits = ((x**2).sum((1, 2)), (y**3).sum(1))
    expected = 0.5 * 2.0 * ((2 * x).pow(2).sum((1, 2)).mean() + (3 * y**2).pow(2).sum(1).mean())
    torch.testing.assert_close(R1Penalty(2.0)((x, y), logits), expected)
    for bad in (0.0, -1.0):
        try:
            R1Penalty(bad)
        except ValueError as e:
            assert "gamma > 0" in str(e)
        else:
            raise AssertionError(f"R1Penalty({bad}) was accepted")
