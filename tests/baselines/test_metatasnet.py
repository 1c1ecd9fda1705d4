"""Meta-TasNet (seed 000): generated masking weights, its objective, separation of any length."""
import itertools

import numpy as np
import pytest
import torch

from priorsep.baselines import load, save_baseline
from priorsep.baselines.metatasnet import MetaTasNet
from priorsep.data.toy import TOY_SOURCES
from priorsep.errors import ConfigError
from priorsep.dsp.si_sdr import si_sdr_tensor
from priorsep.evaluation.metrics import si_sdr
from priorsep.training.supervised import train_supervised, validation_loss

from .paired_data import ScaledCopies

SMALL = dict(window=8, heads=2, latent=8, stft_features=4, n_fft=32, bottleneck=4, hidden=8, blocks=2, repeats=1,
             embedding=4, generator_rank=2, output_length=512, segment=1024)


def tiny(**kw) -> MetaTasNet:
    torch.manual_seed(0)
    return MetaTasNet(dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=[0.25] * 4, **{**SMALL, **kw}))


def test_shapes_any_length_and_same_output_twice():
    model = tiny().eval()
    assert model(torch.randn(2, 1, 512)).shape == (2, 4, 1, 512)
    assert model(torch.randn(2, 1, 509)).shape == (2, 4, 1, 509)  # padded to the stride, cut back
    for t in (40, 1024, 3001):  # segments of 1024 samples, half-overlapping
        mix = torch.randn(1, 1, t)
        est = model.separate_tensor(mix)
        assert est.shape == (1, 4, 1, t)
        torch.testing.assert_close(model.separate_tensor(mix), est)


def test_generated_weights_are_w_p_e_and_the_ablation_owns_them():
    model = tiny()
    gen = model.blocks[0]
    theta = gen(model.embeddings)
    assert theta.shape == (4, sum(model.block_sizes))
    torch.testing.assert_close(theta[2], gen.W @ (gen.P @ model.embeddings[2]))  # theta_k = W_k P_k e_i
    independent = tiny(independent=True)
    assert independent.embeddings is None and independent.blocks[0].theta.shape == theta.shape
    assert independent.label == "Meta-TasNet (independent)" and model.label == "Meta-TasNet"
    # the generated initial weights have the scale of the free ones (1 / sqrt(fan_in))
    assert 0.5 < float(theta.detach().std() / independent.blocks[0].theta.detach().std()) < 2


def test_each_instrument_gets_its_own_mask():
    model = tiny().eval()
    h = model.encode(torch.randn(1, 512))
    masks = [model._tcn(h, i) for i in range(4)]
    assert all(((m >= 0) & (m <= 1)).all() for m in masks)
    assert all(not torch.allclose(a, b) for a, b in itertools.combinations(masks, 2))


def test_objective_terms():
    model = tiny()
    mix = torch.randn(3, 1, 512)
    sources = torch.randn(3, 4, 1, 512)
    loss, terms = model.training_loss(mix, sources)
    assert set(terms) == {"neg_si_snr", "dissimilarity", "similarity", "reconstruction"}
    assert 0 <= terms["dissimilarity"] <= 1 and -1 <= terms["similarity"] <= 1
    est = model(mix)[:, :, 0]
    assert terms["neg_si_snr"] == pytest.approx(-float(si_sdr(est.detach(), sources[:, :, 0]).mean()), abs=1e-3)
    wd, ws, wr = model.config["aux_weights"]
    total = terms["neg_si_snr"] + wd * terms["dissimilarity"] + ws * terms["similarity"] + wr * terms["reconstruction"]
    assert float(loss.detach()) == pytest.approx(total, abs=1e-4)


def test_a_silent_reference_does_not_count_in_the_si_snr():
    model = tiny()
    mix, sources = torch.randn(2, 1, 512), torch.randn(2, 4, 1, 512)
    sources[0, 1] = 0  # the second source rests in the first crop
    _, terms = model.training_loss(mix, sources)
    est = model(mix)[:, :, 0].detach()
    scores = si_sdr(est, sources[:, :, 0])
    assert terms["neg_si_snr"] == pytest.approx(-(scores.sum() - scores[0, 1]) / 7, abs=1e-3)


def test_si_sdr_tensor_is_the_metric_and_differentiable():
    est, ref = torch.randn(2, 3, 100, dtype=torch.float64, requires_grad=True), torch.randn(2, 3, 100).double()
    value = si_sdr_tensor(est, ref)
    np.testing.assert_allclose(value.detach().numpy(), si_sdr(est.detach(), ref))
    value.sum().backward()
    assert torch.isfinite(est.grad).all()


def test_bad_configs_are_refused():
    for bad in (dict(window=12, heads=3), dict(heads=0), dict(aux_weights=[0.1, 0.1]), dict(aux_weights=[-1, 0, 0]),
                dict(channels=2)):
        with pytest.raises(ConfigError):
            tiny(**bad)


def test_training_lowers_the_objective_and_round_trips(tmp_path):
    model = tiny()
    data = ScaledCopies(model.input_length, size=16)
    start = validation_loss(model, data)
    train_supervised(model, data, data, tmp_path / "m", steps=30, batch_size=4, lr=1e-2, checkpoint_every=10,
                     quiet=True)
    best = load(tmp_path / "m").eval()
    assert best.config["best_val_loss"] < start - 10, (best.config["best_val_loss"], start)  # dB of SI-SNR
    mix = np.random.default_rng(0).standard_normal(1500).astype(np.float32)
    save_baseline(best, tmp_path / "copy")
    np.testing.assert_allclose(load(tmp_path / "copy").separate(mix)["sine"], best.separate(mix)["sine"], atol=1e-6)


def test_cli_trains_both_variants(tmp_path):
    from priorsep.cli import main

    for extra, label in (([], "Meta-TasNet"), (["--independent"], "Meta-TasNet (independent)")):
        out = tmp_path / label.replace(" ", "_")
        assert main(["train-baseline", "--model", "metatasnet", "--data", "toy", "--output-length", "1024",
                     "--steps", "1", "--batch-size", "2", "--val-items", "2", "--checkpoint-every", "1",
                     "--out", str(out), "--quiet", *extra]) == 0
        assert load(out).label == label


def test_estimates_are_rescaled_to_sum_to_the_mix():
    from priorsep.baselines.metatasnet import mix_consistent_gains

    est, gains = torch.randn(2, 4, 300), torch.tensor([[0.5, 2.0, -1.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    mix = 0.25 * (est * gains[..., None]).sum(1)  # a mix the rescaled estimates explain exactly
    torch.testing.assert_close(mix_consistent_gains(est, mix, [0.25] * 4), gains, atol=1e-4, rtol=1e-4)
    model = tiny().eval()
    mix = torch.randn(1, 1, 512)
    with torch.no_grad():
        est = model(mix)[:, :, 0]
        residual = mix[:, 0] - 0.25 * est.sum(1)
        assert float(residual.square().sum()) < float(mix.square().sum())  # the rescaled estimates explain part of it
