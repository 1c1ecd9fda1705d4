"""bench musdb: musdb + museval on tiny generated folders in the MUSDB18 layout (wav and STEMS)."""
import json

import numpy as np
import pytest
import soundfile as sf

from priorsep.cli import main
from priorsep.data.multitrack import MUSDB_SOURCES
from priorsep.evaluation.musdb_benchmark import aggregate

RATE = 8000


def _stems(rng, seconds=2.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return {s: (0.2 * np.sin(2 * np.pi * f * t)[:, None] * np.ones((1, 2)) + 0.02 * rng.standard_normal((len(t), 2))
                ).astype(np.float32) for s, f in zip(MUSDB_SOURCES, (440.0, 90.0, 55.0, 1200.0))}


@pytest.fixture(scope="module")
def musdb_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("musdb")
    rng = np.random.default_rng(0)
    for subset, names in (("train", ["T - one", "T - two"]), ("test", ["A - first", "B - second"])):
        for name in names:
            track = root / subset / name
            track.mkdir(parents=True)
            stems = _stems(rng)
            for s, audio in stems.items():
                sf.write(track / f"{s}.wav", audio, RATE, subtype="FLOAT")
            sf.write(track / "mixture.wav", sum(stems.values()), RATE, subtype="FLOAT")
    return root


@pytest.fixture(scope="module")
def tiny_waveunet(musdb_root, tmp_path_factory):
    stem = tmp_path_factory.mktemp("wun") / "wun"
    assert main(["train-baseline", "--model", "waveunet", "--data", "musdb", "--musdb-root", str(musdb_root),
                 "--levels", "2", "--features", "4", "--output-length", "101", "--steps", "2", "--batch-size", "2",
                 "--val-items", "2", "--checkpoint-every", "1", "--out", str(stem), "--quiet"]) == 0
    return stem


def test_wav_release_scores_every_track_and_resumes(musdb_root, tiny_waveunet, tmp_path, capsys):
    out = tmp_path / "eval"
    args = ["bench", "musdb", "--root", str(musdb_root), "--is-wav", "--method", "baseline",
            "--baselines", str(tiny_waveunet), "--out", str(out), "--quiet"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "MUSDB18 test (2 tracks, wav)" in text and "accompaniment" in text
    for name in ("A - first", "B - second"):
        track = json.loads((out / "test" / f"{name}.json").read_text())
        assert {t["name"] for t in track["targets"]} == {*MUSDB_SOURCES, "accompaniment"}
    agg = json.loads((out / "aggregate.json").read_text())
    assert agg["n_tracks"] == 2 and np.isfinite(agg["targets"]["vocals"]["SDR"]) and agg["seconds_per_second"] > 0
    assert main(args) == 0  # everything scored: nothing is separated again
    assert "earlier run" in capsys.readouterr().out


def test_stems_release(musdb_root, tiny_waveunet, tmp_path):
    import stempeg

    root = tmp_path / "stems"
    (root / "test").mkdir(parents=True)
    track = musdb_root / "test" / "A - first"
    audio = np.stack([sf.read(track / f"{s}.wav", dtype="float32")[0] for s in ("mixture", *MUSDB_SOURCES)])
    stempeg.write_stems(str(root / "test" / "A - first.stem.mp4"), audio, sample_rate=RATE,
                        writer=stempeg.StreamsWriter())
    out = tmp_path / "eval"
    assert main(["bench", "musdb", "--root", str(root), "--method", "baseline", "--baselines", str(tiny_waveunet),
                 "--out", str(out), "--quiet"]) == 0
    assert (out / "test" / "A - first.json").is_file()


def test_aggregate_is_the_median_over_tracks_of_medians_over_frames():
    def track(values):
        return {"targets": [{"name": "bass", "frames": [{"metrics": {m: v for m in ("SDR", "SIR", "ISR", "SAR")}}
                                                         for v in values]}]}

    agg = aggregate([track([1.0, 2.0, 9.0]), track([5.0, float("nan"), 7.0]), track([0.0, 0.0, 1.0])])
    assert agg["bass"]["SDR"] == 2.0  # medians 2, 6, 0 -> 2
    assert agg["bass"]["nan_frames"] == 1


def test_errors(musdb_root, tmp_path, capsys):
    assert main(["bench", "musdb", "--root", str(tmp_path), "--out", str(tmp_path / "o"), "--method", "baseline",
                 "--baselines", "waveunet-toy"]) == 2
    assert "MUSDB18 layout" in capsys.readouterr().err
    assert main(["bench", "musdb", "--root", str(musdb_root), "--is-wav", "--method", "baseline",
                 "--baselines", "waveunet-toy", "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "not MUSDB targets" in capsys.readouterr().err
    assert main(["bench", "musdb", "--root", str(musdb_root)]) == 2
    assert "--out" in capsys.readouterr().err


def test_musdb_report_plays_each_separated_tracks_excerpt_with_its_sdr(musdb_root, tiny_waveunet, tmp_path, capsys):
    from tests.report.test_report import parse

    out, report = tmp_path / "eval", tmp_path / "report"
    args = ["bench", "musdb", "--root", str(musdb_root), "--is-wav", "--method", "baseline",
            "--baselines", str(tiny_waveunet), "--out", str(out), "--report", str(report), "--quiet"]
    assert main(args) == 0
    assert f"report: {report / 'index.html'}" in capsys.readouterr().out
    page = parse(report / "index.html")
    assert [row[0] for row in page.tables["items"][1:]] == ["A - first", "B - second"]
    track = json.loads((out / "test" / "A - first.json").read_text())
    vocals_sdr = aggregate([track])["vocals"]["SDR"]
    html = (report / "index.html").read_text()
    assert f"SDR <b class=\"score\">{vocals_sdr:.2f}</b>" in html
    clips = [a for tag, a in page.tags if tag == "audio"]
    assert len(clips) == 2 * (1 + 2 * 5)  # mixture, then 4 targets + accompaniment: reference and estimate
    assert all(float(a["data-seconds"]) == 2.0 for a in clips)  # the tracks are shorter than the excerpt
    assert main(args) == 2  # every track was scored before: nothing to play
    assert "nothing to play" in capsys.readouterr().err
