"""Smoke-run benchmarks/tools/*.py with tiny arguments (pyro-examples style: ``main(build_parser().parse_args(...))``).

The scripts import by name: tests/benchmarks/conftest.py puts benchmarks/tools and benchmarks/probes on sys.path.
"""
import json
import math

import numpy as np
import pytest

from priorsep.errors import ConfigError


def test_langevin_sweep_script(tiny_toy_priors, tmp_path):
    import langevin_sweep

    log = tmp_path / "sweep.jsonl"
    recs = langevin_sweep.main(langevin_sweep.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "1", "--length", "256", "--log", str(log),
         "--grid", '[{"n_levels": 2, "steps_per_level": 1}, {"n_levels": 1, "steps_per_level": 1, "n_chains": 2}]']))
    assert len(recs) == 2 and len(log.read_text().splitlines()) == 2
    assert json.loads(log.read_text().splitlines()[1])["settings"]["n_chains"] == 2
    assert all(math.isfinite(r["median_si_sdri"]) for r in recs)
    assert recs[0]["seed"] == 99 and np.array(recs[0]["si_sdri"]).shape == (1, 4)
    assert recs[0]["max_seconds_per_mix"] >= 0
    from priorsep.priors.io import BUNDLED_DIR

    encoder = str(BUNDLED_DIR / "toy-wavenet" / "encoder")  # --encoder: the start of init="variational"
    (rec,) = langevin_sweep.main(langevin_sweep.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "1", "--length", "256", "--log", str(tmp_path / "e.jsonl"),
         "--encoder", encoder, "--grid", '[{"init": "variational", "n_levels": 1, "steps_per_level": 1}]']))
    assert rec["encoder"] == encoder and rec["settings"]["init"] == "variational"
    plot = tmp_path / "sweep.png"
    assert langevin_sweep.main(langevin_sweep.build_parser().parse_args(
        ["--grid", "[]", "--log", str(log), "--plot", str(plot)])) == []  # only plots the log
    assert plot.stat().st_size > 1000


def test_variational_toy_script(tiny_toy_priors, tmp_path):
    import variational_toy

    from priorsep.encoders import MaskEncoder, save_encoder

    save_encoder(MaskEncoder([0.25] * 4, hidden=4, levels=2, n_fft=64, hop=16), tmp_path / "enc")
    rec = variational_toy.main(variational_toy.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--encoder", str(tmp_path / "enc"), "--n", "2", "--length", "256"]))
    assert np.array(rec["si_sdri"]).shape == (2, 4) and rec["seconds_per_mix"] > 0
    assert abs(rec["median_si_sdri"]) < 1e-3  # an untrained mask encoder returns the minimum-norm split: 0 dB
    rec = variational_toy.main(variational_toy.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--encoder", str(tmp_path / "enc"), "--n", "2", "--length", "256",
         "--seeds", "3,4"]))
    assert np.array(rec["si_sdri"]).shape == (4, 4) and rec["seeds"] == [3, 4] and len(rec["per_seed"]) == 2


def test_write_teacher_labels_script(tiny_toy_priors, tmp_path, capsys):
    import write_teacher_labels

    labels = write_teacher_labels.main(write_teacher_labels.build_parser().parse_args(
        ["--priors", str(tiny_toy_priors), "--n", "2", "--length", "256", "--out", str(tmp_path / "t"), "--quiet",
         "--settings", '{"n_levels": 2, "steps_per_level": 1, "denoise": false}']))
    assert len(labels) == 2 and labels[0]["sources"].shape == (4, 256)
    assert "2 teacher mixtures" in capsys.readouterr().out


def test_compare_tables_script(tmp_path, capsys):
    import json

    import compare_tables

    row = {"si_sdri": {"per_source": [1.004, 2.0], "overall": 1.5}, "SDR": {"overall": 0.5},
           "seconds_per_mix": 3.0}
    before, same, moved = tmp_path / "b.json", tmp_path / "s.json", tmp_path / "m.json"
    before.write_text(json.dumps({"methods": {"old": row}}))
    same.write_text(json.dumps({"methods": {"new": {**row, "si_sdri": {"per_source": [0.996, 2.0], "overall": 1.5},
                                                    "seconds_per_mix": 9.0}}}))
    moved.write_text(json.dumps({"methods": {"new": {**row, "SDR": {"overall": 0.52}}}}))
    parse = compare_tables.build_parser().parse_args
    assert compare_tables.main(parse([str(before), str(same), "--rename", "old=new"]))  # 1.004 and 0.996 print 1.00
    assert not compare_tables.main(parse([str(before), str(moved), "--rename", "old=new"]))
    assert not compare_tables.main(parse([str(before), str(same)]))  # no rename: the row is missing
    assert "missing" in capsys.readouterr().out


def test_paired_rows_script(tmp_path, capsys):
    import paired_rows

    items = lambda values: [{"si_sdri": v} for v in values]  # noqa: E731
    rows = {"ref": {"items": items([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])},
            "better": {"items": items([[2.0, 3.0], [4.0, 5.0], [1.0, 1.0]])},
            "mixed": {"items": items([[0.0, 3.0], [3.0, 4.0], [1.0, -1.0]])},
            "oracle": {"si_sdri": {"overall": 9.0}}}  # a row without items is skipped
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"methods": rows}))
    out = paired_rows.main(paired_rows.build_parser().parse_args([str(path), "--reference", "ref"]))
    assert set(out) == {"better", "mixed"}
    assert out["better"]["median_diff"] == 1.0 and out["better"]["ci95"] == [1.0, 1.0] and out["better"]["wins"] == 1
    assert out["mixed"]["median_diff"] == 0.0 and out["mixed"]["wins"] == 2 / 6 and out["mixed"]["estimates"] == 6
    assert "better" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no row"):
        paired_rows.main(paired_rows.build_parser().parse_args([str(path), "--reference", "nope"]))
    # rows of the same excerpts in two files (the shared row agrees); a shared row that differs is an error
    apart = {"ref": rows["ref"], "late": {"items": items([[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]])}}
    (tmp_path / "late.json").write_text(json.dumps({"methods": apart}))
    both = paired_rows.main(paired_rows.build_parser().parse_args([str(path), str(tmp_path / "late.json"),
                                                                   "--reference", "ref"]))
    assert set(both) == {"better", "mixed", "late"} and both["late"]["wins"] == 2 / 6
    tagged = paired_rows.main(paired_rows.build_parser().parse_args([str(path), f"{path}@again", "--reference", "ref"]))
    assert tagged["better @again"] == tagged["better"] and tagged["ref @again"]["median_diff"] == 0.0
    apart["ref"] = rows["better"]
    (tmp_path / "other.json").write_text(json.dumps({"methods": apart}))
    with pytest.raises(SystemExit, match="not the same excerpts"):
        paired_rows.main(paired_rows.build_parser().parse_args([str(path), str(tmp_path / "other.json"),
                                                                "--reference", "ref"]))


def test_failure_detection_script(tmp_path, capsys):
    import failure_detection

    def row(conf, score, search=None):
        items = [{"si_sdri": s, "confidence_db": c} for c, s in zip(conf, score)]
        for item, s in zip(items, search or []):
            item["search_si_sdri"] = s
        return {"items": items}

    rows = {"perfect": row([[30.0, 2.0], [25.0, 1.0]], [[20.0, -3.0], [18.0, 4.0]], [[21.0, -3.0], [18.0, 3.0]]),
            "backwards": row([[2.0, 30.0], [1.0, 25.0]], [[20.0, -3.0], [18.0, 4.0]]),
            "plain": {"items": [{"si_sdri": [1.0, 2.0]}]}, "oracle": {"si_sdri": {"overall": 9.0}}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"methods": rows}))
    parse = failure_detection.build_parser().parse_args
    out = failure_detection.main(parse([str(path), "--plot", str(tmp_path / "roc.png"), "--json",
                                        str(tmp_path / "a.json")]))
    assert set(out) == {"perfect", "backwards"}
    assert out["perfect"]["auroc"] == 1.0 and out["backwards"]["auroc"] == 0.0 and out["perfect"]["failed"] == 2
    assert out["perfect"]["median_mean_minus_search"] == pytest.approx(np.median([20, -3, 18, 4]) - 10.5)
    assert (tmp_path / "roc.png").stat().st_size > 1000 and "AUROC" in capsys.readouterr().out
    twice = failure_detection.main(parse([str(path), str(path)]))  # two files: rows of one name pooled
    assert twice["perfect"]["estimates"] == 8 and twice["perfect"]["auroc"] == 1.0
    path.write_text(json.dumps({"methods": {"plain": rows["plain"]}}))
    with pytest.raises(SystemExit, match="--samples"):
        failure_detection.main(parse([str(path)]))


def test_draws_toy_script(tiny_toy_priors, tmp_path, capsys):
    import draws_toy

    path = tmp_path / "d.json"
    args = draws_toy.build_parser().parse_args(["--priors", str(tiny_toy_priors), "--n", "2", "--length", "1024",
                                                "--samples", "2", "--restarts", "1", "--levels", "1", "--steps", "2",
                                                "--restart-init", "same",
                                                "--time-search", "--json", str(path), "--quiet"])
    results = draws_toy.main(args)
    row = results["methods"]["Langevin-flow, 2 draws"]
    assert len(row["items"]) == 2 and "confidence_db" in row and "search_si_sdri" in row
    assert results["draws"]["restarts"] == 1 and results["draws"]["restart_init"] == "same"
    assert results["search_seconds_first_mix"] > 0 and path.is_file()
    out = capsys.readouterr().out
    assert "search alone on mix 0" in out and ("AUROC" in out or "no failure detection" in out)
    with pytest.raises(ConfigError, match="--methods takes"):
        draws_toy.main(draws_toy.build_parser().parse_args(["--priors", str(tiny_toy_priors), "--methods", "gibbs"]))
    with pytest.raises(ConfigError, match="has no encoder"):  # the tiny set has none
        draws_toy.main(draws_toy.build_parser().parse_args(["--priors", str(tiny_toy_priors),
                                                            "--methods", "variational"]))


def test_check_report_script(tmp_path, capsys):
    import check_report

    from priorsep.report import write_report
    from priorsep.report.browser import find_browser
    from tests.report.test_report import RATE, _items

    with pytest.raises(ConfigError, match="no report in"):
        check_report.main(check_report.build_parser().parse_args([str(tmp_path)]))
    if find_browser() is None:
        pytest.skip("no chromium + chromedriver on PATH (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
    index = write_report(tmp_path / "r", _items(2), RATE, title="t")
    args = [str(index.parent), "--screenshot", str(tmp_path / "s.png"), "--json", str(tmp_path / "c.json")]
    out = check_report.main(check_report.build_parser().parse_args(args))
    assert out["ok"] and out["audio"] == out["images"] == 2 * 7 and (tmp_path / "s.png").is_file()
    assert json.loads((tmp_path / "c.json").read_text())["bytes"] == out["bytes"] > 0
    assert "OK" in capsys.readouterr().out
    (index.parent / "media" / "item001" / "mix.ogg").unlink()  # a clip gone: the check says so
    out = check_report.main(check_report.build_parser().parse_args([str(index.parent)]))
    assert not out["ok"] and [a["src"] for a in out["audio_failed"]] == ["media/item001/mix.ogg"]


def test_score_song_script(tmp_path):
    import score_song

    from priorsep.data.audio import write_audio

    rng = np.random.default_rng(0)
    stems = rng.standard_normal((3, 2, 8000)).astype(np.float32) * 0.1
    thirds = np.repeat(stems.sum(0, keepdims=True) / 3, 3, 0)
    for folder, est in (("stems", stems), ("perfect", stems), ("split", thirds)):
        (tmp_path / folder).mkdir()
        for name, x in zip("abc", est):
            write_audio(tmp_path / folder / f"{name}.wav", x, 1000)
    write_audio(tmp_path / "mix.wav", stems.sum(0), 1000)
    (tmp_path / "time.txt").write_text("\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5\n"
                                       "\tMaximum resident set size (kbytes): 2048000\n")
    base = ["--mix", str(tmp_path / "mix.wav"), "--stems", str(tmp_path / "stems"), "--window", "2", "--hop", "1"]
    rec = score_song.main(score_song.build_parser().parse_args(
        [*base, "--estimates", str(tmp_path / "perfect"), "--time", str(tmp_path / "time.txt"),
         "--out", str(tmp_path / "s.json")]))
    assert rec["median_si_sdri"] > 50 and rec["scored_windows"] == 2 * 7 and rec["channels"] == 2
    assert rec["wall_s"] == 3723.5 and rec["peak_rss_gb"] == 2.048 and rec["seconds_per_second"] == 465.44
    assert json.loads((tmp_path / "s.json").read_text()) == rec
    rec = score_song.main(score_song.build_parser().parse_args([*base, "--estimates", str(tmp_path / "split")]))
    assert abs(rec["median_si_sdri"]) < 0.5  # a third of the mix each: no better than the mix


def test_song_curve_script(tmp_path, capsys):
    import song_curve

    files = []
    for name, wall, sdr in (("song_slow", 1000.0, 5.0), ("song_fast", 10.0, 8.0)):
        rec = {"seconds": 180.0, "channels": 2, "rate": 44100, "median_si_sdri": sdr, "iqr": [sdr - 1, sdr + 1],
               "wall_s": wall, "seconds_per_second": wall / 180, "peak_rss_gb": 1.5}
        (tmp_path / f"{name}.json").write_text(json.dumps(rec))
        files.append(str(tmp_path / f"{name}.json"))
    out = song_curve.main(song_curve.build_parser().parse_args([*files, "--png", str(tmp_path / "c.png")]))
    assert [r["file"] for r in out] == ["song_fast", "song_slow"]  # fastest first
    table = capsys.readouterr().out
    assert "| `song_fast` | 10 | 0.06 | 1.50 | 8.00 [7.00, 9.00] |" in table
    assert (tmp_path / "c.png").stat().st_size > 1000
