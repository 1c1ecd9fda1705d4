"""Smoke-run benchmarks/probes/*.py with tiny arguments (pyro-examples style: ``main(build_parser().parse_args(...))``).

The scripts import by name: tests/benchmarks/conftest.py puts benchmarks/tools and benchmarks/probes on sys.path.
"""
import json
import math

import numpy as np
import pytest
import torch


def test_tweedie_gain_script(tiny_toy_priors):
    import tweedie_gain

    out = tweedie_gain.main(tweedie_gain.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "1", "--length", "256", "--sigmas", "0.5"]))
    assert len(out) == 4 and all(len(v) == 1 for v in out.values())
    mixed = tweedie_gain.main(tweedie_gain.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "1", "--length", "256", "--sigmas", "0.5", "--input", "mixture"]))
    assert mixed.keys() == out.keys() and mixed != out


def test_period_discrimination_script(tiny_toy_priors, capsys):
    import period_discrimination

    out = period_discrimination.main(period_discrimination.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--periods", "3", "40", "--length", "64"]))
    assert sorted(out) == [3, 40] and all(r.shape == (4, 4) and np.isfinite(r).all() for r in out.values())
    assert "P=40" in capsys.readouterr().out  # the margin lines


def test_silence_margin_finetune_script(tiny_toy_priors, tmp_path):
    import silence_margin_finetune

    from priorsep.priors.io import load_prior

    before = (tiny_toy_priors / "sine.pt").read_bytes()
    silence_margin_finetune.main(silence_margin_finetune.build_parser().parse_args(
        ["sine", str(tiny_toy_priors / "sine"), str(tmp_path / "sine"), "--steps", "2", "--crop", "64",
         "--batch-size", "2"]))
    assert load_prior(tmp_path / "sine").name == "sine"
    assert (tiny_toy_priors / "sine.pt").read_bytes() == before  # the input checkpoint is untouched


def test_factorgan_generator_probe_script():
    import factorgan_generator_probe as probe

    recs = probe.main(probe.build_parser().parse_args(
        ["--steps", "2", "--every", "2", "--batch-size", "2", "--n", "1", "--length", "512", "--set", "n_fft=64",
         "hop=16", "disc_bands=16", "harmonic_kernel=5", "levels=2", "features=4", "train_frames=8"]))
    assert len(recs) == 1 and recs[0]["step"] == 2 and math.isfinite(recs[0]["median_si_sdri"])


def test_factorgan_training_probe_script(tmp_path):
    import factorgan_training_probe as probe

    recs = probe.main(probe.build_parser().parse_args(
        ["--out", str(tmp_path / "fg"), "--steps", "4", "--every", "2", "--batch-size", "2", "--n", "1", "--length",
         "512", "--d-warmup", "1", "--aux-negatives", "0.5", "--paired", "4", "--threads", "1", "--set", "n_fft=64",
         "hop=16", "disc_bands=16", "harmonic_kernel=5", "levels=2", "features=4", "train_frames=8", "disc_rows=8",
         "disc_hidden=8"]))
    assert [r["step"] for r in recs] == [2, 4] and all(math.isfinite(r["raw"]) for r in recs)
    assert recs[0]["g"] is not None  # the generator moved after its one warm-up step


def test_factorgan_training_probe_supervised_stage_validation_and_init(tmp_path):
    import factorgan_training_probe as probe

    tiny = ["--batch-size", "2", "--n", "1", "--length", "512", "--paired", "4", "--threads", "1", "--set", "n_fft=64",
            "hop=16", "disc_bands=16", "harmonic_kernel=5", "levels=2", "features=4", "train_frames=8", "disc_rows=8",
            "disc_hidden=8"]
    recs = probe.main(probe.build_parser().parse_args(
        ["--out", str(tmp_path / "fg"), "--steps", "4", "--every", "2", "--supervised-steps", "2",
         "--supervised-weight", "1", "--pair-length", "300", "--val-items", "2"] + tiny))
    assert recs[0]["supervised_mse"] is not None and recs[0]["d_marginal"] is None and recs[0]["g"] is None
    assert recs[1]["g"] is not None and all(math.isfinite(r["val"]) for r in recs)
    again = probe.main(probe.build_parser().parse_args(  # a further stage from the first run's separator
        ["--out", str(tmp_path / "fg2"), "--steps", "2", "--every", "2", "--init", str(tmp_path / "fg")] + tiny))
    assert again[0]["step"] == 2 and math.isfinite(again[0]["raw"])


def test_factorgan_training_probe_starts_from_a_mask_encoder(tmp_path):
    import factorgan_training_probe as probe

    from priorsep.baselines.factorgan import FactorGAN
    from priorsep.data.toy import TOY_SOURCES
    from priorsep.errors import ConfigError
    from priorsep.encoders import MaskEncoder, save_encoder

    torch.manual_seed(0)
    enc = MaskEncoder([0.25] * 4, hidden=4, levels=2, n_fft=64, hop=16, harmonics=(0.5, 1.0, 2.0), position=True)
    torch.nn.init.normal_(enc.out.weight)
    save_encoder(enc, tmp_path / "enc")
    cfg = dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=[0.25] * 4, n_fft=64, hop=16, levels=2,
               features=4, harmonics=[0.5, 1.0, 2.0], position=True, train_frames=8)
    model = FactorGAN(cfg)
    probe.init_from_encoder(model, str(tmp_path / "enc"))
    spec = model.spectrogram(torch.randn(2, 200))
    with torch.no_grad():  # with the noise channel's weights at zero, the masks are the encoder's
        torch.testing.assert_close(model.masks(spec, torch.randn(spec.shape)), torch.softmax(enc.logits(spec), 1))
    with pytest.raises(ConfigError, match="does not match"):
        probe.init_from_encoder(FactorGAN({**cfg, "features": 8}), str(tmp_path / "enc"))


def test_prior_samples_script(tiny_toy_priors, tmp_path):
    import prior_samples

    png = tmp_path / "s.png"
    out = prior_samples.main(prior_samples.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "2", "--length", "512", "--png", str(png)]))
    assert set(out) == {"sine", "square", "sawtooth", "triangle"} and png.stat().st_size > 0
    # the toy data itself is periodic (peaky), the untrained flows' samples are noise
    assert all(r["peaky_data"] > 0.3 and r["peaky"] < 0.2 for r in out.values())


@pytest.mark.parametrize("order", ["jacobi", "gauss-seidel"])
def test_residual_denoising_probe_meets_the_constraint(tmp_path, order):
    import residual_denoising_probe as probe
    from priorsep.experimental.denoiser import DenoiserPrior
    from priorsep.priors.io import PriorSet

    priors = PriorSet([DenoiserPrior(dict(source=n, sample_rate=14700, sigma_min=0.01, sigma_max=1.0, mix_weight=0.25,
                                          hidden=4, n_fft=64, hop=16, layers=1)).eval()
                       for n in ("sine", "square", "sawtooth", "triangle")])
    m = torch.randn(2, 256)
    est = probe.residual_denoise(priors, m, [1.0, 0.1], order, torch.Generator().manual_seed(0))
    assert est.shape == (2, 4, 256)
    torch.testing.assert_close(est.mean(1), m, atol=1e-5, rtol=1e-5)  # toy mixing: the mean


def test_residual_denoising_probe_script(tmp_path):
    import residual_denoising_probe as probe
    from priorsep.data.toy import TOY_SOURCES
    from priorsep.experimental.denoiser import DenoiserPrior
    from priorsep.priors.io import save_prior

    folder = tmp_path / "dn"
    folder.mkdir()
    for n in TOY_SOURCES:
        save_prior(DenoiserPrior(dict(source=n, sample_rate=14700, sigma_min=0.01, sigma_max=1.0, mix_weight=0.25,
                                      hidden=4, n_fft=64, hop=16, layers=1)).eval(), folder / n)
    (folder / "priorset.json").write_text(json.dumps({"sources": list(TOY_SOURCES)}))
    out = probe.main(probe.build_parser().parse_args(
        ["--priors", str(folder), "--n", "1", "--length", "256", "--sigma-max", "1.0", "--n-levels", "2",
         "--threads", "1"]))
    assert len(out["per_source"]) == 4 and math.isfinite(out["median_si_sdri"]) and out["seconds_per_mix"] > 0


def test_mode_ranking_probe_script(tiny_toy_priors, tmp_path):
    import mode_ranking_probe as probe

    assert probe.pair_swaps(3) == [(1, 0, 2), (2, 1, 0), (0, 2, 1)]
    log = tmp_path / "rank.jsonl"
    settings = '{"space": "mask", "mask_n_fft": 64, "mask_hop": 16, "n_levels": 2, "steps_per_level": 1}'
    recs = probe.main(probe.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--items", "0", "--length", "512", "--settings", settings,
         "--refine-levels", "1", "--refine-steps", "1", "--sigmas", "0.05", "0.5", "--log", str(log)]))
    assert len(recs) == 1 and len(log.read_text().splitlines()) == 1
    cands = recs[0]["candidates"]
    assert [tuple(c["perm"]) for c in cands] == [(0, 1, 2, 3)] + probe.pair_swaps(4)  # the estimate first
    assert all(len(c["log_density"]) == 2 and all(math.isfinite(v) for v in c["log_density"]) for c in cands)
    # a swap changes what each prior is asked to rate
    assert len({tuple(c["log_density"]) for c in cands}) > 1
    assert len(recs[0]["density_picks_best"]) == 2


@pytest.mark.parametrize("extra", [[], ["--set", "disc_level=true"]])
def test_factorgan_discriminator_check_script(extra):
    import factorgan_discriminator_check as check

    table = check.main(check.build_parser().parse_args(
        ["--steps", "1", "--batch-size", "2", "--items", "3", "--threads", "1"] + extra))
    assert list(table) == ["d_sine", "d_square", "d_sawtooth", "d_triangle"]
    assert all(len(row) == 6 and all(math.isfinite(v) for v in row) for row in table.values())


def test_factorgan_scripts_parse_config_overrides():
    from factorgan_training_probe import config_overrides

    from priorsep.errors import ConfigError

    assert config_overrides(["disc_level=true", "harmonics=[1.0, 2.0]", "n_fft=64"]) == dict(
        disc_level=True, harmonics=[1.0, 2.0], n_fft=64)
    with pytest.raises(ConfigError, match="KEY=JSON"):
        config_overrides(["disc_level"])


def test_band_start_probe_script(tmp_path):
    import band_start_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    log = tmp_path / "starts.jsonl"
    recs = probe.main(probe.build_parser().parse_args(
        ["--root", str(root), "--n", "1", "--seconds", "0.5", "--threads", "1", "--log", str(log),
         "--set", "n_levels=1", "steps_per_level=1"]))
    (rec,) = recs
    assert rec["settings"] == {"n_levels": 1, "steps_per_level": 1} and len(log.read_text().splitlines()) == 1
    assert np.allclose(rec["mixture"]["start"], 0, atol=0.01)  # the equal split is the mixture itself
    # the true sources' ratio mask is far above the mixture; one search step keeps it well above
    assert min(rec["oracle"]["start"]) > 5 and np.median(rec["oracle"]["searched"]) > 5
    assert len(rec["baseline"]["searched"]) == 4 and "search" not in rec
    (again,) = probe.main(probe.build_parser().parse_args(  # a second stage after the set's own default search
        ["--root", str(root), "--n", "1", "--seconds", "0.5", "--threads", "1", "--starts", "search",
         "--set", "n_levels=1", "steps_per_level=1", "mask_volume=1.0"]))
    assert again["settings"]["mask_volume"] == 1.0 and len(again["search"]["searched"]) == 4
    assert np.isclose(sum(again["search"]["source_log_density"]), again["search"]["log_density"][1], atol=0.01)
    summary = probe.summarize(recs + recs)
    assert summary["oracle"]["n"] == 2
    assert summary["oracle"]["searched"][0] == round(float(np.median(rec["oracle"]["searched"])), 2)
    assert len(summary["mixture"]["density_over_truth"]) == 2
    assert len(summary["mixture"]["source_density_over_truth"]) == 4


def test_leakage_probe_script(tmp_path):
    import leakage_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    log = tmp_path / "leak.jsonl"
    rec = probe.main(probe.build_parser().parse_args(
        ["--root", str(root), "--n", "1", "--seconds", "0.5", "--threads", "1", "--log", str(log)]))
    leak, total = np.array(rec["leak"]), np.array(rec["total"])
    assert leak.shape == total.shape == (4, 4) and np.all(np.diag(leak) == 0) and np.isfinite(total).all()
    assert np.all(np.array(rec["level"]) != 0) and json.loads(log.read_text())["sources"] == rec["sources"]


def test_restart_probe_script(tiny_toy_priors, tmp_path, capsys):
    import restart_probe

    out = restart_probe.main(restart_probe.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "2", "--length", "1024", "--json", str(tmp_path / "r.json")]))
    assert set(out["restarts"]) == {"same", "noise", "swap"} and json.loads((tmp_path / "r.json").read_text())
    for r in out["restarts"].values():
        assert np.array(r["confidence_db"]).shape == (2, 4) and math.isfinite(r["mean_si_sdri"])
    assert "noise  restart" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="--inits"):
        restart_probe.main(restart_probe.build_parser().parse_args(["--inits", "gibbs"]))


def test_swapped_moves_the_closest_pair_and_keeps_the_mix():
    import restart_probe
    from priorsep.priors.gaussian import GaussianPrior
    from priorsep.priors.io import PriorSet

    # a and b hold each other's estimate as well as their own once rescaled by the weights; c's
    # prior is narrow, so any swap with c costs much density
    priors = PriorSet([GaussianPrior(dict(source=n, sample_rate=8000, variance=v, mix_weight=w))
                       for n, v, w in (("a", 0.25, 0.5), ("b", 1.0, 0.25), ("c", 1e-4, 0.25))])
    std = torch.tensor([0.5, 1.0, 0.01], dtype=torch.float64)[:, None]
    est = torch.randn(1, 3, 256, dtype=torch.float64) * std
    out = restart_probe.swapped(priors, est, 0.01)
    torch.testing.assert_close(out[0, 2], est[0, 2])
    torch.testing.assert_close(out[0, 0], est[0, 1] * 0.5)
    torch.testing.assert_close(out[0, 1], est[0, 0] * 2.0)
    w = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)[:, None]
    torch.testing.assert_close((w * out[0]).sum(0), (w * est[0]).sum(0))


def test_profile_separation_script(tiny_toy_priors, tmp_path, capsys):
    import profile_separation

    out = profile_separation.main(profile_separation.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--length", "1024", "--n-levels", "2", "--steps-per-level", "2",
         "--repeats", "1", "--threads", "2", "--polish-rounds", "1", "--json", str(tmp_path / "p.json")]))
    parts = out["run"]["parts"]
    assert parts["prior scores (forward + backward)"]["calls"] >= 4 and parts["optimiser steps"]["calls"] >= 4
    assert profile_separation.POLISH in parts and parts[profile_separation.REST]["seconds"] >= 0
    # the parts other than the (overlapping) polish stage add up to the run
    assert sum(v["seconds"] for k, v in parts.items() if k != profile_separation.POLISH) == pytest.approx(
        out["run"]["total_seconds"], rel=1e-6)
    assert len(out["per_prior"]) == 4 * 2 * 2  # priors x (1, 2 threads) x (float32, bfloat16)
    assert json.loads((tmp_path / "p.json").read_text())["length"] == 1024
    assert "prior scores" in capsys.readouterr().out


def test_grouped_scores_script(tiny_toy_priors, tmp_path, capsys):
    import grouped_scores

    out = grouped_scores.main(grouped_scores.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--length", "1024", "--repeats", "1", "--threads", "1",
         "--json", str(tmp_path / "g.json")]))
    assert set(out["threads"]["1"]) == {"pool", "one after another", "grouped (vmap)"}
    assert out["max_abs_difference"] <= 1e-4 * max(1.0, out["max_abs_score"])  # the same scores, grouped
    assert json.loads((tmp_path / "g.json").read_text())["length"] == 1024
    assert "grouped (vmap)" in capsys.readouterr().out


def test_nmf_settings_probe_script(tmp_path):
    import nmf_settings_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=1, test_tracks=1, seconds=2.0, seed=5)
    out = probe.main(probe.build_parser().parse_args(
        ["--train-root", str(root), "--root", str(root), "--n", "1", "--seconds", "0.5", "--n-fft", "256", "--hop",
         "64", "--rank", "2", "--train-iterations", "3", "--threads", "1"]))
    assert len(out["per_source"]) == 4 and np.isfinite(out["median"])


def test_nmf_context_probe_script(tmp_path):
    import nmf_context_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=1, test_tracks=1, seconds=2.0, seed=5)
    common = ["--train-root", str(root), "--root", str(root), "--n", "1", "--seconds", "0.5", "--n-fft", "256",
              "--hop", "64", "--rank", "2", "--train-iterations", "3", "--iterations", "5", "--threads", "1",
              "--cache", str(tmp_path / "cache")]
    out = probe.main(probe.build_parser().parse_args(common + ["--context", "3", "--sparsity", "0.1"]))
    assert len(out["per_source"]) == 4 and np.isfinite(out["median"])
    assert len(list((tmp_path / "cache").iterdir())) == 1  # the learnt dictionaries, reused by a second run
    again = probe.main(probe.build_parser().parse_args(common + ["--context", "3", "--sparsity", "0.1"]))
    assert again["median"] == out["median"]
    exemplars = probe.main(probe.build_parser().parse_args(common + ["--exemplars"]))
    assert np.isfinite(exemplars["median"]) and len(list((tmp_path / "cache").iterdir())) == 2


def test_band_val_si_sdri_script(tmp_path):
    import band_val_si_sdri as probe

    from priorsep.baselines import save_baseline
    from priorsep.data.band import make_band_dataset

    from ..baselines.test_nmf import tiny

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    model = tiny(context=2)
    model.config.update(sources=["bass", "drums", "guitar", "piano"], sample_rate=16000, mix_weights=[1.0] * 4)
    save_baseline(model, tmp_path / "nmf")
    rows = probe.main(probe.build_parser().parse_args(
        ["--models", str(tmp_path / "nmf"), "--root", str(root), "--n", "2", "--seconds", "0.5", "--threads", "1"]))
    assert len(rows) == 1 and set(rows[0]["per_source"]) == {"bass", "drums", "guitar", "piano"}
    assert np.isfinite(rows[0]["median"])


def test_spectral_vae_probe_script(tmp_path):
    import spectral_vae_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=1, test_tracks=1, seconds=2.0, seed=5)
    out = probe.main(probe.build_parser().parse_args(
        ["--train-root", str(root), "--root", str(root), "--n", "1", "--seconds", "0.5", "--n-fft", "256", "--hop",
         "64", "--latent", "2", "--hidden", "8", "--steps", "2", "--batch", "4", "--fit-steps", "2", "--threads", "1",
         "--shapes", "2"]))
    assert len(out["per_source"]) == 4 and np.isfinite(out["median"])


def test_spectral_vae_context_probe_script(tmp_path):
    import spectral_vae_context_probe as probe

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=1, test_tracks=1, seconds=2.0, seed=5)
    common = ["--out", str(tmp_path / "vae"), "--train-root", str(root), "--root", str(root), "--n-fft", "256",
              "--hop", "64", "--context", "2", "--latent", "2", "--hidden", "8", "--steps", "30", "--batch", "4",
              "--crops", "2", "--crop-seconds", "1", "--iterations", "3", "--threads", "1"]
    out = probe.main(probe.build_parser().parse_args(
        common + ["--n", "2", "--seconds", "0.5", "--no-bss", "--json", str(tmp_path / "t.json")]))
    (row,) = [m for m in out["methods"] if m.startswith("spectral VAE")]
    assert len(out["methods"][row]["items"]) == 2 and (tmp_path / "t.json").is_file()
    assert sorted(p.name for p in (tmp_path / "vae").iterdir()) == ["bass.pt", "drums.pt", "guitar.pt", "piano.pt"]
    cross = probe.main(probe.build_parser().parse_args(common + ["--crosslik", str(tmp_path / "c.txt")]))
    loss = np.array(cross["cross_loss"])  # the saved VAEs, loaded again
    assert loss.shape == (4, 4) and np.isfinite(loss).all() and "margin" in (tmp_path / "c.txt").read_text()


def test_nmf_cross_fit_script(tmp_path):
    import nmf_cross_fit as probe

    from priorsep.baselines import save_baseline

    from ..baselines.test_nmf import tiny

    from priorsep.data.band import make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    model = tiny()
    model.config.update(sources=["bass", "drums", "guitar", "piano"], sample_rate=16000, mix_weights=[1.0] * 4)
    save_baseline(model, tmp_path / "nmf")
    table = probe.main(probe.build_parser().parse_args(
        ["--model", str(tmp_path / "nmf"), "--root", str(root), "--n", "1", "--seconds", "0.5", "--threads", "1"]))
    assert table.shape == (4, 4) and np.all(np.diag(table) == 0) and np.isfinite(table).all()


def test_band_fit_refine_probe_script(tmp_path):
    import band_fit_refine_probe as probe

    from priorsep.baselines import save_baseline
    from priorsep.baselines.spectral_vae import SpectralVAESeparator
    from priorsep.data.band import BAND_SOURCES, make_band_dataset
    from priorsep.priors.io import save_prior

    from ..conftest import tiny_flow

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    priors = tmp_path / "priors"
    for i, name in enumerate(BAND_SOURCES):
        save_prior(tiny_flow(name, rate=16000, seed=i, mix_weight=1.0, sigma_min=0.001, sigma_max=0.3), priors / name)
    torch.manual_seed(0)
    save_baseline(SpectralVAESeparator(dict(sources=list(BAND_SOURCES), sample_rate=16000, mix_weights=[1.0] * 4,
                                            n_fft=256, hop=64, context=2, latent=2, hidden=8, iterations=3)),
                  priors / "spectral")
    (priors / "priorset.json").write_text(json.dumps({"sources": list(BAND_SOURCES), "fit": "spectral",
                                                      "default": "fit", "langevin": {"space": "mask"}}))
    out = probe.main(probe.build_parser().parse_args(
        ["--root", str(root), "--priors", str(priors), "--n", "2", "--seconds", "0.5", "--no-bss", "--threads", "1",
         "--grid", '[{"n_levels": 1, "steps_per_level": 1}]', "--json", str(tmp_path / "r.json"), "--quiet"]))
    rows = [m for m in out["methods"] if m.startswith("fit + flows")]
    assert len(rows) == 1 and len(out["methods"][rows[0]]["items"]) == 2 and (tmp_path / "r.json").is_file()
    fitted = out["methods"]["spectral VAE priors, 2 frames"]["si_sdri"]["overall"]
    assert out["methods"][rows[0]]["si_sdri"]["overall"] != fitted  # the search moved the start


def test_spectral_ensemble_probe_script(tmp_path):
    import spectral_ensemble_probe as probe

    from priorsep.baselines import save_baseline
    from priorsep.baselines.spectral_vae import SpectralVAESeparator
    from priorsep.data.band import BAND_SOURCES, make_band_dataset

    root = make_band_dataset(tmp_path / "band", tracks=0, test_tracks=1, seconds=2.0, seed=5)
    for seed in (0, 1):
        torch.manual_seed(seed)
        save_baseline(SpectralVAESeparator(dict(sources=list(BAND_SOURCES), sample_rate=16000, mix_weights=[1.0] * 4,
                                                n_fft=256, hop=64, context=2, latent=2, hidden=8, iterations=3)),
                      tmp_path / f"vae{seed}")
    common = ["--root", str(root), "--n", "2", "--seconds", "0.5", "--no-bss", "--threads", "1", "--quiet"]
    same = probe.main(probe.build_parser().parse_args([str(tmp_path / "vae0"), str(tmp_path / "vae0"), *common]))
    rows = {k: v["si_sdri"]["overall"] for k, v in same["methods"].items()}
    assert rows["ensemble of 2"] == pytest.approx(rows["spectral VAE priors, 2 frames #0"], abs=1e-4)  # one draw twice
    two = probe.main(probe.build_parser().parse_args(
        [str(tmp_path / "vae0"), str(tmp_path / "vae1"), *common, "--geometric", "--json", str(tmp_path / "e.json")]))
    assert "ensemble of 2, geometric" in two["methods"] and (tmp_path / "e.json").is_file()
    assert len(two["methods"]["ensemble of 2, geometric"]["items"]) == 2
