import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from priorsep.cli import main
from priorsep.data.audio import read_audio, write_audio
from priorsep.data.toy import TOY_SOURCES, toy_eval_set

FAST = ["--n-levels", "2", "--steps-per-level", "2"]


@pytest.fixture
def mix_wav(tmp_path):
    path = tmp_path / "mix.wav"
    write_audio(path, toy_eval_set(1, 1000, seed=3).mixes[0], 14700)
    return path


def test_separate_writes_one_wav_per_source(tiny_toy_priors, mix_wav, tmp_path):
    out = tmp_path / "sep"
    assert main(["separate", str(mix_wav), "--priors", str(tiny_toy_priors), "--out", str(out), "--quiet", *FAST]) == 0
    for name in TOY_SOURCES:
        audio, rate = read_audio(out / f"{name}.wav")
        assert rate == 14700 and audio.shape == (1, 1000) and np.isfinite(audio).all()


def test_separate_with_draws_writes_their_mean_and_the_uncertainty(tiny_toy_priors, mix_wav, tmp_path, capsys):
    out = tmp_path / "sep"
    argv = ["separate", str(mix_wav), "--priors", str(tiny_toy_priors), "--out", str(out), "--quiet", *FAST,
            "--samples", "3", "--restarts", "2"]
    assert main(argv) == 0
    mix, _ = read_audio(mix_wav)
    total = sum(read_audio(out / f"{name}.wav")[0] for name in TOY_SOURCES)
    np.testing.assert_allclose(0.25 * total, mix, atol=1e-4)  # the draws' mean meets the mix (weights 1/4)
    for name in TOY_SOURCES:
        spread, rate = read_audio(out / f"{name}.spread.wav")
        assert rate == 14700 and spread.shape == (1, 1000) and (spread >= 0).all() and spread.max() > 0
    record = json.loads((out / "uncertainty.json").read_text())
    assert set(record["confidence_db"]) == set(TOY_SOURCES) and record["samples"] == 3
    assert (out / "uncertainty.png").stat().st_size > 1000
    assert main(["separate", str(mix_wav), "--method", "baseline", "--model", "waveunet-toy", "--out",
                 str(tmp_path / "b"), "--samples", "3", "--quiet"]) == 2
    assert "--samples 3: needs at least 2 draws and --method langevin or variational" in capsys.readouterr().err


def test_the_draw_flags_reach_their_method(tiny_toy_priors, mix_wav, tmp_path, capsys, monkeypatch):
    from priorsep.api import load_separator as real_load

    made = []
    monkeypatch.setattr("priorsep.api.load_separator", lambda *a, **kw: made.append(kw) or real_load(*a, **kw))
    argv = ["separate", str(mix_wav), "--priors", str(tiny_toy_priors), "--quiet", *FAST, "--samples", "4"]
    assert main(argv + ["--out", str(tmp_path / "a"), "--restart-init", "same", "--restart-share", "0.5"]) == 0
    assert made[-1]["draws"] == dict(samples=4, restarts=2, restart_init="same", restart_share=0.5)
    assert main(argv + ["--out", str(tmp_path / "b"), "--restart-share", "1.5"]) == 2
    assert "0 < restart_share < 1" in capsys.readouterr().err
    # the variational flags are checked before any encoder is looked for
    argv = ["separate", str(mix_wav), "--priors", str(tiny_toy_priors), "--quiet", "--samples", "4", "--method",
            "variational"]
    assert main(argv + ["--out", str(tmp_path / "c"), "--alignments", "0"]) == 2
    assert "alignments must be an integer >= 1" in capsys.readouterr().err
    assert main(argv + ["--out", str(tmp_path / "d"), "--alignments", "2", "--scale-factor", "1"]) == 2  # no encoder
    assert made[-1]["draws"] == dict(alignments=2, scale_factor=1.0) and "has no encoder" in capsys.readouterr().err


def test_separate_refuses_wrong_rate_unless_resampling(tiny_toy_priors, tmp_path, capsys):
    path = tmp_path / "mix16k.wav"
    write_audio(path, np.sin(np.arange(1600) * 0.1).astype(np.float32), 16000)
    assert main(["separate", str(path), "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "16000 Hz but the priors expect 14700 Hz" in capsys.readouterr().err
    assert main(["separate", str(path), "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "o"),
                 "--resample", "--quiet", *FAST]) == 0
    audio, rate = read_audio(tmp_path / "o" / "sine.wav")  # back at the input's rate and length
    assert rate == 16000 and audio.shape == (1, 1600) and np.isfinite(audio).all()


def test_separate_never_overwrites_the_input(tiny_toy_priors, tmp_path, capsys):
    path = tmp_path / "sine.wav"
    write_audio(path, toy_eval_set(1, 500, seed=1).mixes[0], 14700)
    before = path.read_bytes()
    argv = ["separate", str(path), "--priors", str(tiny_toy_priors), "--out", str(tmp_path), "--quiet", *FAST]
    assert main(argv) == 2
    assert "overwrite the input" in capsys.readouterr().err
    assert path.read_bytes() == before


@pytest.mark.parametrize("content,msg", [("silent", "all zeros"), ("nan", "NaN")])
def test_separate_rejects_bad_audio(tiny_toy_priors, tmp_path, capsys, content, msg):
    path = tmp_path / "bad.wav"
    x = np.zeros(500, np.float32)
    if content == "nan":
        x[10] = np.nan
    write_audio(path, x, 14700)
    assert main(["separate", str(path), "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert msg in capsys.readouterr().err


def test_missing_inputs_are_clear_errors(tiny_toy_priors, tmp_path, capsys):
    assert main(["separate", str(tmp_path / "nope.wav"), "--priors", str(tiny_toy_priors), "--out", str(tmp_path)]) == 2
    assert "audio file not found" in capsys.readouterr().err
    assert main(["separate", str(tmp_path / "nope.wav"), "--priors", "no-such-set", "--out", str(tmp_path)]) == 2
    assert "no prior set" in capsys.readouterr().err


def test_train_prior_on_toy_and_on_a_folder(tmp_path):
    args = ["--steps", "3", "--batch-size", "2", "--crop", "64", "--squeeze", "4", "--n-blocks", "1",
            "--hidden", "4", "--n-layers", "1", "--quiet"]
    assert main(["train-prior", "--source", "sine", "--data", "toy", "--out", str(tmp_path / "p" / "sine"), *args]) == 0
    cfg = json.loads((tmp_path / "p" / "sine.json").read_text())
    assert cfg["sample_rate"] == 14700 and cfg["mix_weight"] == 0.25 and "toy" in cfg["training_data"]
    assert len((tmp_path / "p" / "sine.log.jsonl").read_text().splitlines()) == 3
    stems = tmp_path / "stems"
    stems.mkdir()
    write_audio(stems / "a.wav", np.random.default_rng(0).standard_normal((2, 500)).astype(np.float32) * 0.1, 8000)
    (tmp_path / "p2").mkdir()
    assert main(["train-prior", "--source", "bass", "--data", str(stems), "--out", str(tmp_path / "p2"), *args]) == 0
    cfg = json.loads((tmp_path / "p2" / "bass.json").read_text())
    assert cfg["sample_rate"] == 8000 and cfg["mix_weight"] == 1.0
    assert main(["train-prior", "--source", "sine", "--data", "toy", "--basis", "dct",
                 "--out", str(tmp_path / "p3" / "sine"),
                 *args, "--squeeze", "8"]) == 0
    cfg = json.loads((tmp_path / "p3" / "sine.json").read_text())
    assert cfg["basis"] == "dct" and cfg["squeeze"] == 8 and cfg["kind"] == "dct-flow"  # the experimental family


def test_fine_tune_with_score_matching_never_overwrites_its_input(tmp_path, capsys):
    args = ["--source", "sine", "--data", "toy", "--steps", "2", "--batch-size", "2", "--crop", "64", "--quiet"]
    tiny = ["--squeeze", "4", "--n-blocks", "1", "--hidden", "4", "--n-layers", "1"]
    assert main(["train-prior", "--out", str(tmp_path / "nll" / "sine"), *args, *tiny]) == 0
    before = (tmp_path / "nll" / "sine.pt").read_bytes()
    assert main(["train-prior", "--init", str(tmp_path / "nll" / "sine"), "--out", str(tmp_path / "nll" / "sine"),
                 "--dsm-weight", "1", *args]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert main(["train-prior", "--init", str(tmp_path / "nll" / "sine"), "--out", str(tmp_path / "ft" / "sine"),
                 "--dsm-weight", "1", *args]) == 0
    assert (tmp_path / "nll" / "sine.pt").read_bytes() == before
    cfg = json.loads((tmp_path / "ft" / "sine.json").read_text())
    assert cfg["n_blocks"] == 1 and cfg["training"]["dsm_weight"] == 1.0 and len(cfg["training_history"]) == 1
    log = [json.loads(x) for x in (tmp_path / "ft" / "sine.log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["dsm"]) for r in log)
    assert main(["train-prior", "--init", str(tmp_path / "nll" / "sine"), "--out", str(tmp_path / "x" / "square"),
                 "--dsm-weight", "1", *args[:1], "square", *args[2:]]) == 2
    assert "not 'square'" in capsys.readouterr().err


def test_bench_toy_prints_table_and_json(tiny_toy_priors, tmp_path, capsys):
    path = tmp_path / "r.json"
    assert main(["bench", "toy", "--priors", str(tiny_toy_priors), "--n", "1", "--length", "14700",
                 "--json", str(path), "--quiet", *FAST]) == 0
    table = capsys.readouterr().out
    for row in ("Langevin-flow", "mixture-as-estimate", "oracle IRM", "SI-SDRi", "SDR", "s/s"):
        assert row in table
    res = json.loads(path.read_text())
    assert abs(res["methods"]["mixture-as-estimate"]["si_sdri"]["overall"]) < 1e-6
    assert res["methods"]["oracle IRM"]["si_sdri"]["overall"] > 5
    assert res["device"] == "cpu"  # where the timings were measured


def test_bench_with_draws_scores_their_mean_the_search_and_records_confidence(tiny_toy_priors, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["bench", "toy", "--n", "2", "--length", "1024", "--priors", str(tiny_toy_priors), "--baselines",
                 "--no-bss", "--samples", "3", "--restarts", "2", "--json", str(out), "--quiet", *FAST]) == 0
    table = capsys.readouterr().out
    assert "conf" in table.splitlines()[1] and "Langevin-flow, 3 draws" in table
    results = json.loads(out.read_text())
    row = results["methods"]["Langevin-flow, 3 draws"]
    assert len(row["items"]) == 2 and all(len(it["confidence_db"]) == len(it["search_si_sdri"]) == 4
                                          for it in row["items"])
    assert results["draws"] == {"samples": 3, "restarts": 2, "restart_init": "auto", "restart_share": 0.25}
    assert results["encoder_draws"] == {"alignments": 8, "scale_factor": 0.25} and "overall" in row["confidence_db"]
    assert main(["bench", "toy", "--n", "1", "--samples", "0", "--priors", str(tiny_toy_priors), "--quiet"]) == 2


def test_bench_has_one_langevin_row_per_prior_set(tiny_toy_priors, tiny_toy_wavenet_priors, capsys):
    assert main(["bench", "toy", "--priors", str(tiny_toy_priors), str(tiny_toy_wavenet_priors), "--n", "1",
                 "--length", "2048", "--no-bss", "--quiet", *FAST]) == 0
    table = capsys.readouterr().out
    assert "Langevin-flow" in table and "Langevin-wavenet" in table


def test_wavenet_priors_train_separate_and_diagnose_from_the_cli(tiny_toy_wavenet_priors, mix_wav, tmp_path, capsys):
    args = ["--kind", "wavenet", "--steps", "2", "--batch-size", "2", "--crop", "64", "--channels", "4",
            "--skip-channels", "4", "--n-layers", "3", "--dilation-cycle", "3", "--n-mix", "2", "--quiet"]
    assert main(["train-prior", "--source", "sine", "--data", "toy", "--out", str(tmp_path / "p" / "sine"), *args]) == 0
    cfg = json.loads((tmp_path / "p" / "sine.json").read_text())
    assert cfg["kind"] == "wavenet" and cfg["channels"] == 4 and cfg["n_mix"] == 2
    assert main(["separate", str(mix_wav), "--priors", str(tiny_toy_wavenet_priors), "--out", str(tmp_path / "sep"),
                 "--quiet", *FAST]) == 0
    assert sorted(p.stem for p in (tmp_path / "sep").glob("*.wav")) == sorted(TOY_SOURCES)
    png = tmp_path / "x.png"
    assert main(["diagnose", "--priors", str(tiny_toy_wavenet_priors), "--n", "2", "--length", "128",
                 "--sigmas", "0.01", "0.5", "--png", str(png)]) == 0
    assert "own prior highest" in capsys.readouterr().out and png.is_file()


def test_diagnose_prints_matrix_and_writes_png(tiny_toy_priors, tmp_path, capsys):
    png = tmp_path / "x.png"
    assert main(["diagnose", "--priors", str(tiny_toy_priors), "--n", "2", "--length", "256",
                 "--sigmas", "0.01", "0.5", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in TOY_SOURCES) and png.stat().st_size > 1000


def test_console_script_runs():
    r = subprocess.run([sys.executable, "-m", "priorsep.cli", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "train-prior" in r.stdout


def test_demo_example_smoke(tiny_toy_priors, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
    import toy_demo

    res = toy_demo.main(toy_demo.build_parser().parse_args(
        ["--out", str(tmp_path / "demo"), "--priors", str(tiny_toy_priors), "--n", "1", "--length", "512",
         "--n-levels", "2", "--steps-per-level", "2", "--quiet"]))
    assert res["si_sdri"].shape == (1, 4)
    from priorsep.evaluation.toy_benchmark import default_toy_baselines

    assert sorted(res["baselines"]) == sorted(default_toy_baselines())
    assert all(np.isfinite(v) for v in res["baselines"].values())
    assert np.isfinite(res["variational"])
    assert (tmp_path / "demo" / "mix0.png").stat().st_size > 1000
    assert (tmp_path / "demo" / "mix0_sine_estimate.wav").is_file()
    assert res["report"] == tmp_path / "demo" / "report" / "index.html" and "mix0" in res["report"].read_text()


def test_boolean_sampler_flags_take_true_or_false_and_reject_typos(capsys):
    from priorsep.cli import build_parser
    from priorsep.cli.common import langevin_settings

    args = build_parser().parse_args(["bench", "toy", "--polish-split", "TRUE", "--mask-assign", "no"])
    assert langevin_settings(args) == {"polish_split": True, "mask_assign": False}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "toy", "--polish-split", "ture"])
    assert "expected true or false, got 'ture'" in capsys.readouterr().err


def test_commands_stay_thin():
    """Every function of the CLI package (each command's ``run``, its parser, its helpers) fits on a screen:
    the work is in the library (data selection: priorsep/data/select.py)."""
    import ast

    import priorsep.cli

    folder = Path(priorsep.cli.__file__).parent
    long = {f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1
            for path in folder.glob("*.py") for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > 40}
    assert long == {}


def test_python_m_priorsep_runs_the_cli():
    r = subprocess.run([sys.executable, "-m", "priorsep", "data", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--soundfont" in r.stdout
