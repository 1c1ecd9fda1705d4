"""Demucs from its own package (priorsep[peers]) as a priorsep baseline."""
import sys

import numpy as np
import pytest
import torch

from priorsep.baselines import load, save_baseline
from priorsep.baselines.peer_demucs import DemucsSeparator
from priorsep.data.toy import TOY_SOURCES
from priorsep.errors import ConfigError, MissingExtraError
from priorsep.training.supervised import train_supervised, validation_loss

from .paired_data import ScaledCopies

pytest.importorskip("demucs", reason="the Demucs baseline needs the peers extra: pip install 'priorsep[peers]'")


def tiny(**kw) -> DemucsSeparator:
    torch.manual_seed(0)
    return DemucsSeparator(dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=[0.25] * 4,
                                **{**dict(levels=2, features=4, output_length=2048, dconv_lstm=1, segment_seconds=0.2),
                                   **kw}))


def test_shapes_any_length_and_same_output_twice():
    model = tiny().eval()
    assert model(torch.randn(3, 1, 2048)).shape == (3, 4, 1, 2048)
    for t in (500, 2048, 9001):  # apply_model's overlapping segments, no random shifts
        mix = torch.randn(2, 1, t)
        est = model.separate_tensor(mix)
        assert est.shape == (2, 4, 1, t)
        torch.testing.assert_close(model.separate_tensor(mix), est)
    assert model.context == (0, 0) and model.input_length == model.output_length == 2048


def test_bad_configs_are_refused():
    for bad in (dict(levels=0), dict(overlap=1.0), dict(segment_seconds=0)):
        with pytest.raises(ConfigError):
            tiny(**bad)


def test_a_missing_package_names_the_extra(monkeypatch):
    for name in ("demucs", "demucs.apply", "demucs.demucs"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails as if not installed
    with pytest.raises(MissingExtraError, match=r"priorsep\[peers\]"):
        tiny()


def test_training_lowers_the_validation_loss_and_round_trips(tmp_path):
    model = tiny()
    data = ScaledCopies(model.input_length, size=16)
    start = validation_loss(model, data)
    train_supervised(model, data, data, tmp_path / "d", steps=30, batch_size=4, lr=1e-2, checkpoint_every=10,
                     quiet=True)
    best = load(tmp_path / "d")
    assert best.label == "Demucs" and best.config["best_val_loss"] < 0.5 * start, (best.config["best_val_loss"], start)
    mix = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    save_baseline(best, tmp_path / "copy")
    copy = load(tmp_path / "copy")
    np.testing.assert_allclose(copy.separate(mix)["sine"], best.separate(mix)["sine"], atol=1e-6)


def test_cli_trains_a_demucs(tmp_path):
    from priorsep.cli import main

    assert main(["train-baseline", "--model", "demucs", "--data", "toy", "--levels", "2", "--features", "4",
                 "--output-length", "1024", "--steps", "2", "--batch-size", "2", "--val-items", "2",
                 "--checkpoint-every", "1", "--out", str(tmp_path / "d"), "--quiet"]) == 0
    model = load(tmp_path / "d")
    assert model.kind == "demucs" and model.config["levels"] == 2 and model.config["trained_steps"] >= 1
