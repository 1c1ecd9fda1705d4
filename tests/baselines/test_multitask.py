"""The shared-encoder multitask separator (seed 001) and its interleaved / simultaneous training."""
import numpy as np
import pytest
import soundfile as sf
import torch

from priorsep.baselines import load, save_baseline
from priorsep.baselines.multitask import SharedEncoderSeparator
from priorsep.data.multitrack import MultitrackCrops, SourceTargets
from priorsep.data.toy import TOY_SOURCES, ToyMixCrops
from priorsep.errors import ConfigError, DataError
from priorsep.training.multitask import task_order, train_multitask, validation_loss

SMALL = dict(n_fft=64, hop=16, features=2, max_features=4, levels=2, patch_frames=8, inference_frames=16)


def tiny(mode: str = "interleaved", **kw) -> SharedEncoderSeparator:
    torch.manual_seed(0)
    return SharedEncoderSeparator(dict(sources=list(TOY_SOURCES), sample_rate=14700, mix_weights=[0.25] * 4,
                                       **{**SMALL, "training_mode": mode, **kw}))


def crop_length(model) -> int:
    return model.config["patch_frames"] * model.config["hop"] + model.config["n_fft"]


class ScaledCopies(torch.utils.data.Dataset):
    """Paired items whose source k is ``(k + 1) / 10`` of a noise mix: a target a working training learns fast."""

    names, sample_rate = TOY_SOURCES, 14700

    def __init__(self, length: int, seed: int, size: int = 10**9):
        self.length, self.seed, self.size = length, seed, size

    def __len__(self):
        return self.size

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(self.seed * 100_003 + int(i))
        mix = torch.randn(self.length, generator=g) * torch.rand(1, generator=g)
        return mix, mix * torch.arange(1, 5)[:, None] / 10

    def describe(self):
        return "scaled copies of noise"


def views(model, seed=0, size=10**9):
    paired = ToyMixCrops(crop_length(model), seed=seed, size=size)
    return [SourceTargets(paired, k) for k in range(4)]


def test_shapes_any_length_and_channels():
    model = tiny().eval()
    assert model(torch.rand(2, 32, 8)).shape == (2, 4, 32, 8)  # (B, K, F = n_fft / 2, T)
    for t in (50, 333, 1000):  # any length; chunks of inference_frames frames padded to the grid
        assert model.separate_tensor(torch.randn(2, 1, t)).shape == (2, 4, 1, t)
    est = model.separate(np.random.default_rng(0).standard_normal((2, 400)).astype(np.float32))
    assert est["triangle"].shape == (2, 400)


def test_estimates_are_magnitudes_with_the_mixture_phase():
    """A decoder output of |M| (a 'pass-through') gives back the mixture: the phase is the mixture's."""
    model = tiny().eval()
    mix = torch.randn(1, 1, 600)
    model.forward = lambda mag: mag[:, None].expand(-1, 4, -1, -1)
    est = model.separate_tensor(mix)
    spec = model.spectrogram(mix)
    spec[..., -1, :] = 0  # the Nyquist bin is estimated as 0
    from priorsep.dsp.stft import istft

    expect = istft(spec, 64, 16, 600)
    for k in range(4):
        torch.testing.assert_close(est[:, k], expect, atol=1e-5, rtol=0)


def test_bad_configs_are_refused():
    for bad in (dict(training_mode="both"), dict(levels=0), dict(patch_frames=6), dict(n_fft=60), dict(channels=2)):
        with pytest.raises(ConfigError):
            tiny(**bad)


def test_bin_scale_is_the_mixtures_rms_per_bin():
    model = tiny()
    mixes = torch.randn(4, 400) * torch.linspace(0.1, 2, 4)[:, None]
    model.fit_bin_scale(mixes)
    mag = model.spectrogram(mixes).abs()[..., :32, :]
    torch.testing.assert_close(model.bin_scale[:, 0], mag.square().mean(dim=(0, 2)).sqrt())
    assert model.normalised_magnitude(mixes).square().mean(dim=(0, 2)).sub(1).abs().max() < 1e-4


def test_interleaved_order_is_a_fresh_permutation_every_k_steps():
    for r in range(5):
        assert sorted(task_order(0, 4 * r + j, 4) for j in range(4)) == [0, 1, 2, 3]
    assert [task_order(0, i, 4) for i in range(40)] != [task_order(1, i, 4) for i in range(40)]


def test_an_interleaved_step_updates_the_encoder_and_one_decoder_only(tmp_path):
    model = tiny()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    train_multitask(model, views(model), views(model, seed=5, size=2), tmp_path / "m", steps=1, batch_size=2,
                    checkpoint_every=1, quiet=True)
    k = task_order(0, 0, 4)
    moved = {n.split(".")[0] + ("." + n.split(".")[1] if n.startswith("decoders") else "")
             for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert moved == {"stem", "down", f"decoders.{k}"}


def test_simultaneous_training_needs_views_of_one_paired_set(tmp_path):
    model = tiny("simultaneous")
    independent = [SourceTargets(ToyMixCrops(crop_length(model), seed=k), k) for k in range(4)]
    with pytest.raises(ConfigError, match="every source's target"):
        train_multitask(model, independent, independent, tmp_path / "m", steps=1, quiet=True)
    with pytest.raises(ConfigError, match="one training and one validation database per source"):
        train_multitask(model, views(model)[:2], views(model), tmp_path / "m", steps=1, quiet=True)
    short = [SourceTargets(ToyMixCrops(40, seed=0), k) for k in range(4)]
    with pytest.raises(DataError, match="longer crops"):
        train_multitask(model, short, short, tmp_path / "m", steps=1, quiet=True)


@pytest.mark.parametrize("mode", ["interleaved", "simultaneous"])
def test_training_lowers_the_validation_loss_and_round_trips(mode, tmp_path):
    model = tiny(mode)
    val = [SourceTargets(ScaledCopies(crop_length(model), seed=9, size=8), k) for k in range(4)]
    paired = ScaledCopies(crop_length(model), seed=0)
    train = [SourceTargets(paired, k) for k in range(4)]
    model.fit_bin_scale(torch.cat([torch.stack([db[i][0] for i in range(8)]) for db in train]))  # as training does
    silent = float(torch.stack([model.normalised_magnitude(db[i][1])[..., :8].abs().mean()  # predicting 0
                                for db in val for i in range(8)]).mean())
    train_multitask(model, train, val, tmp_path / "m", steps=80, batch_size=4, lr=1e-2,
                    checkpoint_every=20, quiet=True)
    best = load(tmp_path / "m")
    assert best.label == {"interleaved": "Interleaved multitask", "simultaneous": "Simultaneous multitask"}[mode]
    assert validation_loss(best, val) == pytest.approx(best.config["best_val_loss"], rel=1e-5)
    assert best.config["best_val_loss"] < 0.6 * silent, (best.config["best_val_loss"], silent)
    mix = torch.randn(1, 1, 700)
    save_baseline(best, tmp_path / "copy")
    torch.testing.assert_close(load(tmp_path / "copy").separate_tensor(mix), best.separate_tensor(mix))


def _multitrack(root, n_tracks=8, frames=3000):
    rng = np.random.default_rng(0)
    for i in range(n_tracks):
        d = root / "train" / f"t{i}"
        d.mkdir(parents=True)
        for s in ("a", "b"):
            sf.write(d / f"{s}.wav", rng.standard_normal(frames).astype(np.float32) * 0.1, 8000)
    return root


def test_disjoint_parts_share_no_track(tmp_path):
    root = _multitrack(tmp_path)
    parts = [MultitrackCrops(root, ("a", "b"), 100, part=(j, 3), split="train") for j in range(3)]
    tracks = [set(p.tracks) for p in parts]
    assert sum(len(t) for t in tracks) == len(MultitrackCrops(root, ("a", "b"), 100, split="train").tracks)
    assert not (tracks[0] & tracks[1]) and not (tracks[1] & tracks[2]) and not (tracks[0] & tracks[2])
    assert "part 1 of 3" in parts[1].describe()
    with pytest.raises(DataError, match="empty"):
        MultitrackCrops(root, ("a", "b"), 100, part=(3, 3))


def test_cli_trains_interleaved_and_simultaneous_and_refuses_a_mismatched_init(tmp_path, capsys):
    from priorsep.cli import main

    common = ["train-baseline", "--data", "toy", "--levels", "2", "--features", "2", "--steps", "2",
              "--batch-size", "2", "--val-items", "2", "--checkpoint-every", "1", "--quiet"]
    assert main([*common, "--model", "interleaved", "--out", str(tmp_path / "i")]) == 0
    assert main([*common, "--model", "simultaneous", "--out", str(tmp_path / "s")]) == 0
    inter, simul = load(tmp_path / "i"), load(tmp_path / "s")
    assert inter.config["training_mode"] == "interleaved" and simul.config["training_mode"] == "simultaneous"
    assert "source 'sine' only" in inter.config["training_data"]
    capsys.readouterr()
    assert main([*common, "--model", "simultaneous", "--init", str(tmp_path / "i"), "--out", str(tmp_path / "x")]) == 2
    assert "not a simultaneous" in capsys.readouterr().err


def test_source_database_layouts(tmp_path):
    from priorsep.data.select import paired_crops, source_databases

    root = str(_multitrack(tmp_path))
    paired_set, sources, _, _ = paired_crops("musdb", ["a", "b"], 0, musdb_root=root)
    common = dict(seed=0, musdb_root=root)
    disjoint = source_databases("musdb", sources, paired_set, 100, "train", 5, layout="disjoint", **common)
    shared = source_databases("musdb", sources, paired_set, 100, "train", 5, layout="shared", **common)
    views = source_databases("musdb", sources, paired_set, 100, "train", 5, layout="paired", **common)
    assert not set(disjoint[0].paired.tracks) & set(disjoint[1].paired.tracks)
    assert shared[0].paired.tracks == shared[1].paired.tracks and shared[0].paired.seed != shared[1].paired.seed
    assert views[0].paired is views[1].paired and [db.k for db in views] == [0, 1] and len(views[0]) == 5
    mix, target = disjoint[1][0]
    assert mix.shape == target.shape == (100,)
    with pytest.raises(ConfigError, match="layout"):
        source_databases("musdb", sources, paired_set, 100, "train", 5, layout="mixed", **common)
