"""Paired crops from folders in the MUSDB wav layout."""
import numpy as np
import pytest
import soundfile as sf
import torch

from priorsep.data.multitrack import MUSDB_SOURCES, MultitrackCrops, SoloView


@pytest.fixture
def musdb_folder(tmp_path):
    rng = np.random.default_rng(0)
    for t in range(5):
        track = tmp_path / "train" / f"track{t}"
        track.mkdir(parents=True)
        stems = {s: 0.1 * rng.standard_normal((8000, 2)).astype(np.float32) for s in MUSDB_SOURCES}
        for name, audio in stems.items():
            sf.write(track / f"{name}.wav", audio, 8000, subtype="FLOAT")
        sf.write(track / "mixture.wav", sum(stems.values()), 8000, subtype="FLOAT")
    return tmp_path


def test_crops_are_mono_sum_mixed_and_deterministic(musdb_folder):
    data = MultitrackCrops(musdb_folder, length=1000, seed=3)
    m, s = data[7]
    assert m.shape == (1000,) and s.shape == (4, 1000) and m.dtype == torch.float32
    assert torch.allclose(m, s.sum(0))
    m2, _ = MultitrackCrops(musdb_folder, length=1000, seed=3)[7]
    assert torch.equal(m, m2)
    assert not torch.equal(m, data[8][0])


def test_splits_are_disjoint_and_resampling_keeps_the_length(musdb_folder):
    train = MultitrackCrops(musdb_folder, length=500, split="train")
    valid = MultitrackCrops(musdb_folder, length=500, split="valid")
    assert not set(train.tracks) & set(valid.tracks) and len(train.tracks) + len(valid.tracks) == 5
    low = MultitrackCrops(musdb_folder, length=500, sample_rate=4000)
    assert low.sample_rate == 4000 and low[0][1].shape == (4, 500)
    solo = SoloView(train, 2, offset=10)
    assert torch.equal(solo[0], train[10][1][2])


def test_missing_layout_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="MUSDB layout"):
        MultitrackCrops(tmp_path)
    (tmp_path / "train" / "t").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="vocals.wav"):
        MultitrackCrops(tmp_path)


def test_cli_trains_waveunet_on_a_musdb_folder(musdb_folder, tmp_path):
    from priorsep.baselines import load
    from priorsep.cli import main

    stem = tmp_path / "wun"
    assert main(["train-baseline", "--model", "waveunet", "--data", "musdb", "--musdb-root", str(musdb_folder),
                 "--levels", "2", "--features", "4", "--output-length", "101", "--steps", "2", "--batch-size", "2",
                 "--val-items", "2", "--checkpoint-every", "1", "--out", str(stem), "--quiet"]) == 0
    model = load(stem)
    assert model.names == list(MUSDB_SOURCES) and model.weights == [1.0] * 4 and model.sample_rate == 8000
    assert "multitrack folder" in model.config["training_data"]


def test_prior_trains_on_one_musdb_stem_and_skips_silence(musdb_folder, tmp_path):
    from priorsep.cli import main
    from priorsep.data.multitrack import MultitrackSolo
    from priorsep.priors.io import load_prior

    for t in range(4):  # vocals silent in most tracks: crops must come from the one that sings
        sf.write(musdb_folder / "train" / f"track{t}" / "vocals.wav", np.zeros((8000, 2), np.float32), 8000)
    solo = MultitrackSolo(musdb_folder, "vocals", length=256, seed=1)
    assert all(solo[i].abs().max() > 1e-4 for i in range(20)) and solo[3].shape == (256,)
    stem = tmp_path / "vocals"
    assert main(["train-prior", "--kind", "flow", "--source", "vocals", "--data", "musdb", "--musdb-root",
                 str(musdb_folder), "--crop", "256", "--steps", "2", "--batch-size", "2", "--n-blocks", "1",
                 "--hidden", "4", "--n-layers", "1", "--out", str(stem), "--quiet", "--sample-rate", "4000"]) == 0
    prior = load_prior(stem)
    assert prior.name == "vocals" and prior.sample_rate == 4000 and prior.config["mixing"] == "sum"
    assert "MUSDB" in prior.config["training_data"] or "multitrack" in prior.config["training_data"]


def test_paired_tracks_are_the_first_training_tracks_and_the_rest_are_unpaired(musdb_folder):
    from priorsep.data.select import paired_crops, unpaired_solo_crops
    from priorsep.errors import ConfigError, DataError

    names = [f"track{t}" for t in range(5)]  # 4 training tracks, track4 is the validation split
    paired_set, sources, _, _ = paired_crops("musdb", MUSDB_SOURCES, 0, musdb_root=str(musdb_folder),
                                             paired_tracks=1)
    assert [t.name for t in paired_set(100, "train", 10).tracks] == names[:1]
    assert [t.name for t in paired_set(100, "unpaired", 10).tracks] == names[1:4]
    assert [t.name for t in paired_set(100, "valid", 10).tracks] == names[4:]
    assert "tracks 0:1, 1 tracks" in paired_set(100, "train", 10).describe()
    solo = unpaired_solo_crops("musdb", sources, paired_set, 100, 0)
    assert len(solo) == 4 and "tracks 1:, 3 tracks" in solo[0].describe()
    everything, *_ = paired_crops("musdb", MUSDB_SOURCES, 0, musdb_root=str(musdb_folder))
    assert len(everything(100, "train", 10).tracks) == len(everything(100, "unpaired", 10).tracks) == 4
    too_many, *_ = paired_crops("musdb", MUSDB_SOURCES, 0, musdb_root=str(musdb_folder), paired_tracks=4)
    with pytest.raises(DataError, match="tracks 4:None of the 4 train tracks .* fewer paired tracks"):
        too_many(100, "unpaired", 10)
    with pytest.raises(ConfigError, match="--paired-tracks needs --data musdb"):
        paired_crops("toy", MUSDB_SOURCES, 0, paired_tracks=2)


def test_cli_trains_factorgan_and_its_supervised_twin_on_few_paired_tracks(musdb_folder, tmp_path):
    from priorsep.baselines import load
    from priorsep.cli import main
    from priorsep.evaluation.benchmark import EvalSet, benchmark_methods, format_table, run_benchmark

    common = ["train-baseline", "--model", "factorgan", "--data", "musdb", "--musdb-root", str(musdb_folder),
              "--paired-tracks", "2", "--levels", "2", "--features", "4", "--batch-size", "2", "--val-items", "2",
              "--checkpoint-every", "1", "--supervised-steps", "1", "--quiet"]
    assert main(common + ["--steps", "3", "--d-warmup", "1", "--out", str(tmp_path / "fg")]) == 0
    assert main(common + ["--steps", "1", "--d-warmup", "0", "--out", str(tmp_path / "twin")]) == 0
    gan, twin = load(tmp_path / "fg"), load(tmp_path / "twin")
    assert gan.paired_tracks == twin.paired_tracks == 2
    assert "tracks 0:2, 2 tracks" in gan.config["training"]["paired_data"]
    assert "tracks 2:, 2 tracks" in gan.config["training"]["solo_data"][0]
    assert (gan.label, twin.label) == ("FactorGAN+supervised", "FactorGAN generator, supervised")
    rng = np.random.default_rng(0)
    stems = 0.1 * rng.standard_normal((1, 4, 4000)).astype(np.float32)
    data = EvalSet(sources=stems, mixes=stems.sum(1), names=list(MUSDB_SOURCES), sample_rate=8000, description="t")
    methods = benchmark_methods([gan, twin], list(MUSDB_SOURCES), [1.0] * 4)
    assert {"FactorGAN+supervised, 2 tracks", "FactorGAN generator, supervised, 2 tracks"} <= set(methods)
    table = format_table(run_benchmark(methods, data, bss=False, quiet=True))
    assert table.count(" 2 tr\n") == 2
    assert main(["train-baseline", "--model", "interleaved", "--data", "musdb", "--musdb-root", str(musdb_folder),
                 "--paired-tracks", "2", "--steps", "1", "--out", str(tmp_path / "mt"), "--quiet"]) != 0
    assert not (tmp_path / "mt.pt").exists()
