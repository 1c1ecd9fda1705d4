"""Synthetic band stems: MIDI through FluidSynth into the MUSDB layout."""
import json

import numpy as np
import pytest

from priorsep.cli import main
from priorsep.data.audio import read_audio
from priorsep.data.band import BAND_SOURCES, SOUNDFONTS, compose, make_band_dataset, resolve_soundfont
from priorsep.data.folder import FolderCrops, clipped_samples
from priorsep.data.multitrack import MultitrackCrops
from priorsep.data.audio import write_audio
from priorsep.errors import ConfigError, DataError, DataNotFoundError


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


def test_several_soundfonts_give_each_stem_one_that_plays_it(band, tmp_path):
    root = make_band_dataset(tmp_path / "s", tracks=4, test_tracks=0, seconds=2.0, seed=5,
                             soundfont=["fluidr3", "black-pearl"], stem_gain_db=6.0)
    kits = set()
    for track in sorted((root / "train").iterdir()):
        song = json.loads((track / "song.json").read_text())
        fonts = song["soundfonts"]
        assert {fonts[p] for p in ("bass", "guitar", "piano")} == {"FluidR3_GM.sf2"}  # the kit plays drums only
        kits.add(fonts["drums"])
        assert song["heldout"] is False and all(-6 <= 20 * np.log10(g) <= 6 for g in song["stem_gains"].values())
        drums, _ = read_audio(track / "drums.wav")
        assert np.sqrt(np.mean(drums**2)) > 1e-3  # the avldrums kit sounds (it is a preset, not a channel-10 kit)
    assert kits == {"FluidR3_GM.sf2", "Black_Pearl_4_LV2.sf2"}  # drawn per track, seeded
    meta = json.loads((root / "band.json").read_text())
    assert len(meta["soundfont"]) == 2 and meta["stem_gain_db"] == 6.0
    # training sets built on these stems name the SoundFonts that played them (the checkpoints' training_data)
    assert MultitrackCrops(root, ("piano",), length=256).describe().endswith("rendered with SoundFonts FluidR3_GM.sf2")
    both = MultitrackCrops(root, BAND_SOURCES, length=256).describe()
    assert both.endswith("rendered with SoundFonts Black_Pearl_4_LV2.sf2, FluidR3_GM.sf2")
    solo = tmp_path / "solo"
    solo.mkdir()
    for track in sorted((root / "train").iterdir()):
        (solo / f"{track.name}.wav").symlink_to(track / "drums.wav")  # as the recipes gather stems
    assert FolderCrops(solo, length=256).describe().endswith("rendered with SoundFonts Black_Pearl_4_LV2.sf2, "
                                                             "FluidR3_GM.sf2")
    assert "rendered with" not in FolderCrops(solo, length=256, training=False).describe()


def test_held_out_soundfonts_render_test_tracks_only_and_are_never_trained_on(tmp_path, capsys):
    assert SOUNDFONTS["musescore"].heldout and not SOUNDFONTS["fluidr3"].heldout
    with pytest.raises(ConfigError, match="held-out"):
        make_band_dataset(tmp_path / "m", tracks=1, test_tracks=0, seconds=1.0, soundfont="musescore")
    assert main(["data", "band", "--out", str(tmp_path / "m"), "--tracks", "1", "--seconds", "1",
                 "--soundfont", "fluidr3", "musescore", "--quiet"]) == 2
    assert "--tracks 0" in capsys.readouterr().err
    root = make_band_dataset(tmp_path / "t", tracks=0, test_tracks=1, seconds=1.0, soundfont="musescore")
    track = next((root / "test").iterdir())
    assert json.loads((track / "song.json").read_text())["heldout"] is True
    solo = tmp_path / "solo"
    solo.mkdir()
    (solo / "piano.wav").symlink_to(track / "piano.wav")  # as the recipes gather stems
    with pytest.raises(DataError, match="held-out SoundFont"):
        FolderCrops(solo, length=256)
    assert FolderCrops(solo, length=256, training=False)[0].shape == (256,)  # evaluation crops may use them
    with pytest.raises(DataError, match="held-out SoundFont"):  # nor paired training on the tracks
        MultitrackCrops(root, BAND_SOURCES, length=256, subset="test")


def test_training_folders_name_the_bad_file(tmp_path):
    rng = np.random.default_rng(0)
    tone = 0.3 * np.sin(np.arange(4000) / 7).astype(np.float32)

    def folder(name: str, files: dict) -> str:
        d = tmp_path / name
        d.mkdir()
        for f, (audio, rate) in files.items():
            write_audio(d / f, audio, rate)
        return str(d)

    with pytest.raises(DataError, match=r"16000 Hz: a.wav.*22050 Hz: b.wav"):
        FolderCrops(folder("rates", {"a.wav": (tone, 16000), "b.wav": (tone, 22050)}), length=256)
    with pytest.raises(DataError, match="quiet.wav is silent"):
        FolderCrops(folder("silent", {"a.wav": (tone, 16000), "quiet.wav": (np.zeros(4000, np.float32), 16000)}),
                    length=256)
    clipped = np.clip(5 * tone, -1, 1)
    assert clipped_samples(clipped[None]) > 100 and clipped_samples(tone[None]) == 0
    with pytest.raises(DataError, match="loud.wav is clipped"):
        FolderCrops(folder("clipped", {"a.wav": (tone, 16000), "loud.wav": (clipped, 16000)}), length=256)
    noise = (0.1 * rng.standard_normal(4000)).astype(np.float32)
    assert FolderCrops(folder("good", {"a.wav": (tone, 16000), "b.wav": (noise, 16000)}), length=256)[0].shape == (256,)


def test_errors_and_cli(tmp_path, capsys):
    with pytest.raises(DataNotFoundError, match="SoundFont not found"):
        resolve_soundfont(tmp_path / "missing.sf2")
    (tmp_path / "fake.sf2").write_bytes(b"RIFF\0\0\0\0WAVEfmt ")
    with pytest.raises(DataError, match="fake.sf2 is not a SoundFont"):
        resolve_soundfont(tmp_path / "fake.sf2")
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


def test_band_whole_track_protocol(band, tmp_path, capsys):
    from priorsep.evaluation.band_benchmark import band_track_set, bench_band

    data = band_track_set(band, window_seconds=1.0, hop_seconds=0.5)
    assert data.sources.shape == (1, 4, 48000) and data.windows == (16000, 8000)
    results = bench_band(band, [], n=None, seconds=1.0, bss=True, quiet=True, whole_tracks=True)
    assert results["windows"] == [16000, 8000] and results["n_items"] == 1
    irm = results["methods"]["oracle IRM"]
    windows = np.array(irm["items"][0]["window_si_sdri"], dtype=float)
    assert windows.shape == (5, 4)  # 3 s in 1-s windows every 0.5 s
    assert irm["si_sdri"]["overall"] == pytest.approx(np.nanmedian(windows))  # pooled over every window
    q25, q75 = irm["si_sdri"]["overall_iqr"]
    assert q25 <= irm["si_sdri"]["overall"] <= q75 and "SDR" in irm
    out = tmp_path / "t.json"
    assert main(["bench", "band", "--root", str(band), "--priors", "--baselines", "--whole-tracks", "--seconds", "1",
                 "--no-bss", "--quiet", "--json", str(out)]) == 0
    assert "1-s windows every 0.5 s" in capsys.readouterr().out
    assert json.loads(out.read_text())["windows"] == [16000, 8000]  # valid JSON: unscored windows are null
    assert main(["bench", "toy", "--whole-tracks", "--n", "1"]) == 2


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
    row = "priors-langevin"  # a set without a "default" in its priorset.json: the annealed search
    assert res["si_sdri"][row].shape == (4,) and np.isfinite(res["si_sdri"][row]).all()
    assert (tmp_path / "demo" / "band_spectrograms.png").stat().st_size > 1000
    assert (tmp_path / "demo" / f"piano_{row}.wav").is_file()
    assert res["report"] == tmp_path / "demo" / "report" / "index.html" and row in res["report"].read_text()
