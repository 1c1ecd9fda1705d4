"""Synthetic band stems: MIDI through FluidSynth into the MUSDB layout."""
import json

import numpy as np
import pytest

from priorsep.cli import main
from priorsep.data.audio import read_audio
from priorsep.data.band import BAND_SOURCES, compose, make_band_dataset, resolve_soundfont
from priorsep.errors import ConfigError, DataNotFoundError


@pytest.fixture(scope="module")
def band(tmp_path_factory):
    root = tmp_path_factory.mktemp("band")
    make_band_dataset(root, tracks=2, test_tracks=1, seconds=3.0, seed=5)
    return root


def test_layout_rates_and_the_sum_mix(band):
    tracks = sorted((band / "train").iterdir()) + sorted((band / "test").iterdir())
    assert len(tracks) == 3
    for track in tracks:
        stems = {}
        for name in ("mixture", *BAND_SOURCES):
            audio, rate = read_audio(track / f"{name}.wav")
            assert rate == 16000 and audio.shape == (1, 48000)
            stems[name] = audio[0]
        for s in BAND_SOURCES:
            assert np.sqrt(np.mean(stems[s] ** 2)) > 1e-3, f"{track.name}/{s} is silent"
        np.testing.assert_allclose(stems["mixture"], sum(stems[s] for s in BAND_SOURCES), atol=1e-6)
        assert np.abs(stems["mixture"]).max() <= 0.99 + 1e-6
        song = json.loads((track / "song.json").read_text())
        assert set(song["programs"]) == set(BAND_SOURCES) and song["soundfont"] == "FluidR3_GM.sf2"
    meta = json.loads((band / "band.json").read_text())
    assert meta["sources"] == list(BAND_SOURCES) and meta["mixing"] == "sum"


def test_tracks_share_tempo_and_key_but_vary():
    songs = [compose(np.random.default_rng([0, 0, i]), 10.0) for i in range(8)]
    assert len({s["tempo"] for s in songs}) > 1 and len({s["key"] for s in songs}) > 1
    assert len({s["programs"]["bass"] for s in songs}) > 1 and len({s["patterns"]["drums"] for s in songs}) > 1


def test_same_seed_same_audio_and_finished_tracks_are_kept(band, tmp_path):
    again = make_band_dataset(tmp_path / "b", tracks=1, test_tracks=0, seconds=3.0, seed=5)
    track = next((again / "train").iterdir())
    for s in BAND_SOURCES:  # (not the bytes: float wavs carry a PEAK chunk with a time stamp)
        np.testing.assert_array_equal(read_audio(track / f"{s}.wav")[0],
                                      read_audio(band / "train" / track.name / f"{s}.wav")[0])
    before = (track / "mixture.wav").stat().st_mtime_ns
    make_band_dataset(tmp_path / "b", tracks=1, test_tracks=0, seconds=3.0, seed=5)
    assert (track / "mixture.wav").stat().st_mtime_ns == before


def test_another_soundfont_is_other_recordings(band, tmp_path):
    other = make_band_dataset(tmp_path / "m", tracks=0, test_tracks=1, seconds=3.0, seed=5, soundfont="musescore")
    a, _ = read_audio(next((band / "test").iterdir()) / "piano.wav")
    b, _ = read_audio(next((other / "test").iterdir()) / "piano.wav")
    assert a.shape == b.shape and not np.allclose(a, b, atol=1e-3)


def test_errors_and_cli(tmp_path, capsys):
    with pytest.raises(DataNotFoundError, match="SoundFont not found"):
        resolve_soundfont(tmp_path / "missing.sf2")
    with pytest.raises(ConfigError):
        make_band_dataset(tmp_path, tracks=0, test_tracks=0)
    assert main(["data", "band", "--out", str(tmp_path / "c"), "--tracks", "1", "--test-tracks", "0",
                 "--seconds", "1", "--quiet"]) == 0
    assert (tmp_path / "c" / "train").is_dir()
    assert main(["data", "band", "--out", str(tmp_path / "d"), "--tracks", "1", "--soundfont", "nope.sf2"]) == 2
    assert "SoundFont not found" in capsys.readouterr().err


def test_band_benchmark_table(band, capsys):
    from priorsep.evaluation.band_benchmark import band_benchmark_set, bench_band

    data = band_benchmark_set(band, seconds=1.0, n=3)
    assert data.sources.shape == (3, 4, 16000) and data.names == list(BAND_SOURCES)
    np.testing.assert_allclose(data.mixes, data.sources.sum(1), atol=1e-6)
    assert (np.sqrt((data.sources ** 2).mean(-1)) > 10 ** (-50 / 20)).all()  # every stem audible
    results = bench_band(band, [], n=3, seconds=1.0, bss=False, quiet=True)
    rows = results["methods"]
    assert abs(rows["mixture-as-estimate"]["si_sdri"]["overall"]) < 1e-4
    assert rows["oracle IRM"]["si_sdri"]["overall"] > 5
    assert main(["bench", "band", "--root", str(band), "--priors", "--baselines", "--n", "2", "--seconds", "1",
                 "--no-bss", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "band benchmark" in out and "oracle IRM" in out
    assert main(["bench", "band", "--priors", "--baselines"]) == 2
    assert "--root" in capsys.readouterr().err


def test_band_demo_example_smoke(tmp_path):
    import json as _json
    import sys
    from pathlib import Path

    from priorsep.priors.io import save_prior
    from tests.conftest import tiny_flow

    priors = tmp_path / "priors"
    for i, name in enumerate(BAND_SOURCES):
        save_prior(tiny_flow(name, rate=16000, seed=i, mix_weight=1.0, sigma_min=0.001, sigma_max=0.3), priors / name)
    (priors / "priorset.json").write_text(_json.dumps({"sources": list(BAND_SOURCES)}))
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    import band_demo

    res = band_demo.main(band_demo.build_parser().parse_args(
        ["--out", str(tmp_path / "demo"), "--priors", str(priors), "--baselines", "--seconds", "0.5",
         "--track-seconds", "2", "--n-levels", "1", "--steps-per-level", "1", "--soundfont", "fluidr3", "--quiet"]))
    assert res["si_sdri"]["Langevin"].shape == (4,) and np.isfinite(res["si_sdri"]["Langevin"]).all()
    assert (tmp_path / "demo" / "band_spectrograms.png").stat().st_size > 1000
    assert (tmp_path / "demo" / "piano_Langevin.wav").is_file()
