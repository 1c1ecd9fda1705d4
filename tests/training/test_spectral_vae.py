"""Training the spectral VAE priors: each VAE learns from its own source's solo crops only, the loss
falls, a run cut after a source resumes to the weights of an uninterrupted run, and the CLI trains end
to end."""
import json

import pytest
import soundfile as sf
import torch

from priorsep.baselines import load_baseline
from priorsep.cli import main
from priorsep.errors import DataError
from priorsep.training.spectral_vae import train_spectral_vae

from ..baselines.test_nmf import _tones
from ..baselines.test_spectral_vae import tiny
from .test_nmf import _Broken, _solo_sets

STEPS = 40


def _train(tmp_path, name, sets, **kw):
    model = tiny()
    records = train_spectral_vae(model, sets, tmp_path / name, steps=STEPS, crops=3, batch=8, lr=3e-3, quiet=True,
                                 **kw)
    return model, records


def test_each_vae_learns_from_its_own_source_and_the_loss_falls(tmp_path):
    model, records = _train(tmp_path, "full", _solo_sets())
    assert len(records) == 4 * STEPS
    for k, name in enumerate(model.names):
        losses = [r["loss"] for r in records if r["source"] == name and "loss" in r]
        assert losses[-1] < losses[0], (name, losses)
    other = _solo_sets()
    other[1] = [torch.flip(x, (0,)) * 0.3 + _tones([500.0])[0] for x in other[1]]
    changed, _ = _train(tmp_path, "changed", other)
    # source 1's data changed: only its VAE changed (same seed; no VAE sees another source)
    for k in range(4):
        same = all(torch.equal(a, b) for a, b in zip(model.vaes[k].parameters(), changed.vaes[k].parameters()))
        assert same == (k != 1), k


def test_a_cut_run_resumes_to_the_same_weights(tmp_path):
    full, _ = _train(tmp_path, "full", _solo_sets())
    sets = _solo_sets()
    with pytest.raises(RuntimeError, match="interrupted"):
        _train(tmp_path, "cut", sets[:2] + [_Broken()] + sets[3:])
    assert torch.load(tmp_path / "cut.train.pt", weights_only=True)["step"] == 2 * STEPS
    assert not (tmp_path / "cut.pt").exists()  # no usable model before every VAE is trained
    resumed, _ = _train(tmp_path, "cut", sets)
    assert all(torch.equal(a, b) for a, b in zip(full.state_dict().values(), resumed.state_dict().values()))
    sliced, _ = _train(tmp_path, "sliced", sets, stop_after=STEPS)
    assert not (tmp_path / "sliced.pt").exists()
    with pytest.raises(DataError, match="steps >= 10"):
        train_spectral_vae(tiny(), sets, tmp_path / "x", steps=5, crops=3, quiet=True)


def test_cli_trains_on_toy_solo_crops_and_separates(tmp_path, capsys):
    out = tmp_path / "vae"
    assert main(["train-baseline", "--model", "spectral-vae", "--data", "toy", "--out", str(out), "--steps", "12",
                 "--solo-crops", "2", "--n-fft", "256", "--hop", "64", "--context", "2", "--latent", "2", "--hidden",
                 "8", "--iterations", "3", "--storage", "float16", "--quiet"]) == 0
    cfg = json.loads(out.with_suffix(".json").read_text())
    assert cfg["kind"] == "spectral-vae" and cfg["paired_items"] == 0 and cfg["trained_steps"] == 48
    assert cfg["training"] == {"steps": 12, "batch_size": 256, "lr": 1e-3, "solo_crops": 2, "seed": 0}
    assert cfg["latent"] == 2 and cfg["storage"] == "float16" and "2 crops per source" in cfg["training_data"]
    model = load_baseline(out)
    wav = tmp_path / "mix.wav"
    sf.write(wav, 0.1 * torch.randn(3000).numpy(), model.sample_rate)
    assert main(["separate", str(wav), "--method", "baseline", "--model", str(out), "--out", str(tmp_path / "sep"),
                 "--quiet"]) == 0
    written = sorted(p.name for p in (tmp_path / "sep").rglob("*.wav"))
    assert len(written) == 4 and all(any(n in w for w in written) for n in model.names), written
    bad = ["train-baseline", "--model", "spectral-vae", "--data", "toy", "--out", str(tmp_path / "b"), "--paired", "4"]
    assert main(bad) == 2
    assert "learns from solo crops only" in capsys.readouterr().err
