"""Wave-U-Net baseline: shapes, the difference layer, seamless tiling, training, checkpoints, CLI."""
import numpy as np
import pytest
import torch

from priorsep.baselines import load, load_baseline, save_baseline
from priorsep.baselines.waveunet import WaveUNet, _decimate, _upsample
from priorsep.data.toy import TOY_SOURCES, ToyMixCrops
from priorsep.mixing import mix
from priorsep.training.supervised import train_supervised, validation_loss

WEIGHTS = [0.25] * 4


def tiny(**kw) -> WaveUNet:
    torch.manual_seed(0)
    cfg = dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=WEIGHTS, levels=3, features=4,
               output_length=101, inference_output_length=301)
    return WaveUNet({**cfg, **kw})


def test_resampling_keeps_ends_and_inverts():
    x = torch.randn(2, 3, 9)
    up = _upsample(x)
    assert up.shape[-1] == 17
    assert torch.equal(_decimate(up), x)
    ramp = torch.arange(5.0)
    assert torch.allclose(_upsample(ramp), torch.arange(0, 4.5, 0.5))


def test_forward_shapes_and_difference_layer_sums_to_the_mix():
    model = tiny()
    assert model.input_length > model.output_length >= 101
    x = torch.randn(3, 1, model.input_length)
    est = model(x)
    assert est.shape == (3, 4, 1, model.output_length)
    before, _ = model.context
    centre = x[..., before:before + model.output_length]
    assert torch.allclose(mix(est.transpose(1, 2), WEIGHTS), centre, atol=1e-6)
    # the first K-1 outputs are tanh-bounded, the last is whatever the mix leaves
    assert est[:, :3].abs().max() <= 1


def test_invalid_lengths_are_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="not a valid Wave-U-Net output length"):
        model.input_length_for(model.output_length + 1)
    with pytest.raises(ValueError, match="odd kernel"):
        tiny(down_kernel=4)


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_separate_any_length_is_seamless_and_shaped_like_the_mix(norm):
    model = tiny(norm=norm)
    rng = np.random.default_rng(0)
    long_mix = rng.standard_normal(1000).astype(np.float32)
    a = model.separate(long_mix)  # frames of 301 outputs
    model.config["inference_output_length"] = 2001  # one frame
    b = model.separate(long_mix)
    for name in TOY_SOURCES:
        assert a[name].shape == (1000,) and a[name].dtype == np.float32
        np.testing.assert_allclose(a[name], b[name], atol=1e-5)  # tiling with true context: no seams
    remix = mix(np.stack([a[n] for n in TOY_SOURCES]), WEIGHTS)
    np.testing.assert_allclose(remix, long_mix, atol=1e-5)
    stereo = model.separate(rng.standard_normal((2, 50)))
    assert stereo["sine"].shape == (2, 50)
    assert model.separate(np.ones(1, np.float32))["sine"].shape == (1,)


def test_separate_rejects_bad_input():
    model = tiny()
    with pytest.raises(ValueError, match="NaN"):
        model.separate(np.array([0.1, np.nan, 0.2]))
    with pytest.raises(ValueError, match="silent"):
        model.separate(np.zeros(100))
    stereo_model = tiny(channels=2)
    with pytest.raises(ValueError, match="2-channel"):
        stereo_model.separate(np.ones((3, 100)))


def test_training_lowers_validation_loss_and_keeps_the_best(tmp_path):
    model = tiny()
    data = ToyMixCrops(model.input_length, seed=0, size=4)
    start = validation_loss(model, data)
    train_supervised(model, data, data, tmp_path / "w", steps=40, batch_size=4, lr=3e-3, checkpoint_every=10,
                     quiet=True)
    best = load_baseline(tmp_path / "w")
    assert best.config["best_val_loss"] < 0.7 * start
    assert validation_loss(best, data) == pytest.approx(best.config["best_val_loss"], rel=1e-5)
    assert best.config["paired_items"] == 4
    assert (tmp_path / "w.train.pt").is_file() and (tmp_path / "w.log.jsonl").is_file()


class _CrashAt(torch.utils.data.Dataset):
    """A dataset that crashes the training when item ``at`` is drawn, like a killed process."""

    def __init__(self, data, at):
        self.data, self.at = data, at

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        if i >= self.at:
            raise KeyboardInterrupt
        return self.data[i]


def test_training_resumes_exactly_after_a_crash(tmp_path):
    data = ToyMixCrops(tiny().input_length, seed=0)
    val = ToyMixCrops(tiny().input_length, seed=1, size=2)
    straight = tiny()
    train_supervised(straight, data, val, tmp_path / "a", steps=4, batch_size=2, checkpoint_every=2, quiet=True)
    with pytest.raises(KeyboardInterrupt):  # dies in step 3, after the step-2 checkpoint
        train_supervised(tiny(), _CrashAt(data, 5), val, tmp_path / "b", steps=4, batch_size=2, checkpoint_every=2,
                       quiet=True)
    resumed = tiny()  # as in a fresh process: new model, other RNG state, same stem
    torch.manual_seed(123)
    train_supervised(resumed, data, val, tmp_path / "b", steps=4, batch_size=2, checkpoint_every=2, quiet=True)
    for p, q in zip(straight.parameters(), resumed.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_training_rejects_crops_of_the_wrong_length(tmp_path):
    model = tiny()
    with pytest.raises(ValueError, match="takes"):
        train_supervised(model, ToyMixCrops(100), ToyMixCrops(100), tmp_path / "w", steps=1, quiet=True)


def test_save_load_round_trip_and_load_by_stem(tmp_path):
    model = tiny()
    save_baseline(model, tmp_path / "m")
    back = load(tmp_path / "m")
    assert isinstance(back, WaveUNet) and back.config["kind"] == "waveunet"
    x = np.random.default_rng(1).standard_normal(500).astype(np.float32)
    np.testing.assert_array_equal(model.separate(x)["square"], back.separate(x)["square"])
    with pytest.raises(FileNotFoundError, match="no baseline"):
        load(tmp_path / "missing")
    (tmp_path / "m.pt").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        load(tmp_path / "m")


def test_cli_trains_and_benchmarks_a_baseline(tmp_path, capsys):
    from priorsep.cli import main

    stem = tmp_path / "wun"
    assert main(["train-baseline", "--model", "waveunet", "--data", "toy", "--levels", "2", "--features", "4",
                 "--output-length", "101", "--steps", "2", "--batch-size", "2", "--val-items", "2",
                 "--checkpoint-every", "1", "--out", str(stem), "--quiet"]) == 0
    assert stem.with_suffix(".pt").is_file()
    capsys.readouterr()
    assert main(["bench", "toy", "--priors", "--baselines", str(stem), "--n", "1", "--length", "2000",
                 "--no-bss", "--quiet"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("Wave-U-Net"))
    assert row.split()[-1] == "4"  # 2 steps x batch 2 fresh paired items
    assert "oracle IRM" in out and "Langevin" not in out


def test_cli_separates_with_a_baseline(tmp_path, capsys):
    from priorsep.cli import main
    from priorsep.data.audio import read_audio, write_audio

    save_baseline(tiny(), tmp_path / "wun")
    mix_path = tmp_path / "mix.wav"
    write_audio(mix_path, np.sin(np.arange(900) * 0.05).astype(np.float32), 14700)
    assert main(["separate", str(mix_path), "--method", "baseline", "--model", str(tmp_path / "wun"),
                 "--out", str(tmp_path / "sep"), "--quiet"]) == 0
    audio, rate = read_audio(tmp_path / "sep" / "triangle.wav")
    assert rate == 14700 and audio.shape == (1, 900)
    assert main(["separate", str(mix_path), "--method", "baseline", "--out", str(tmp_path / "o")]) == 2
    assert "needs --model" in capsys.readouterr().err


def test_cli_second_stage_starts_from_a_checkpoint_and_keeps_its_history(tmp_path, capsys):
    from priorsep.cli import main

    common = ["train-baseline", "--model", "waveunet", "--data", "toy", "--steps", "2", "--batch-size", "2",
              "--val-items", "2", "--checkpoint-every", "1", "--quiet"]
    s1, s2 = str(tmp_path / "s1"), str(tmp_path / "s2")
    assert main([*common, "--levels", "2", "--features", "4", "--output-length", "101", "--out", s1]) == 0
    assert main([*common, "--init", s1, "--seed", "1", "--lr", "1e-4", "--out", s2]) == 0
    stage2 = load(tmp_path / "s2")
    assert stage2.config["levels"] == 2 and stage2.config["training"]["lr"] == 1e-4
    assert stage2.config["training_history"][0]["lr"] == 5e-4
    assert stage2.config["paired_items"] == 8
    assert main([*common, "--init", str(tmp_path / "s2"), "--seed", "2", "--out", str(tmp_path / "s3")]) == 0
    stage3 = load(tmp_path / "s3")  # counted once each, though stage 2's record already includes stage 1
    assert [h["paired_items"] for h in stage3.config["training_history"]] == [4, 8]
    assert stage3.config["paired_items"] == 12
    assert main([*common, "--init", str(tmp_path / "s2"), "--out", str(tmp_path / "s2")]) == 2
    assert "never overwrites" in capsys.readouterr().err
