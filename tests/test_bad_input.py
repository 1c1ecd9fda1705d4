"""Every kind of bad input named in the reliability issue ends in a documented error with a message
that names the problem -- from the CLI (exit status 2, no traceback) and from the Python API."""
import json
import shutil

import numpy as np
import pytest

import priorsep
from priorsep.cli import main
from priorsep.data.audio import write_audio
from priorsep.data.toy import toy_eval_set
from priorsep.errors import (AudioFileError, CheckpointError, ConfigError, InvalidAudioError, OutputConflictError,
                             PriorsepError, SampleRateError, UnknownNameError)


FAST = ["--n-levels", "1", "--steps-per-level", "1", "--quiet"]
MIX = toy_eval_set(1, 512, seed=2).mixes[0]


def _priors_copy(src, dst):
    shutil.copytree(src, dst)
    return dst


# name -> (setup(tmp_path, priors) -> argv, expected message fragment)
def _mix_file(tmp, x=MIX, rate=14700, name="mix.wav"):
    path = tmp / name
    write_audio(path, x, rate)
    return str(path)


def _nan(tmp, p):
    x = MIX.copy()
    x[3] = np.nan
    return ["separate", _mix_file(tmp, x), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _inf(tmp, p):
    x = MIX.copy()
    x[3] = np.inf
    return ["separate", _mix_file(tmp, x), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _silent(tmp, p):
    return ["separate", _mix_file(tmp, np.zeros(512, np.float32)), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _empty(tmp, p):
    return ["separate", _mix_file(tmp, np.zeros(0, np.float32)), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _rate(tmp, p):
    return ["separate", _mix_file(tmp, rate=16000), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _mixed_rates(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    cfg = json.loads((d / "square.json").read_text())
    (d / "square.json").write_text(json.dumps({**cfg, "sample_rate": 16000}))
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _unknown_set(tmp, p):
    return ["separate", _mix_file(tmp), "--priors", "no-such-set", "--out", str(tmp / "o"), *FAST]


def _unknown_baseline(tmp, p):
    return ["separate", _mix_file(tmp), "--method", "baseline", "--model", "no-such-model", "--out", str(tmp / "o")]


def _unknown_source(tmp, p):
    return ["train-prior", "--data", "toy", "--source", "violin", "--steps", "1", "--out", str(tmp / "x"), "--quiet"]


def _missing_weights(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    (d / "sine.pt").unlink()
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _truncated_weights(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    data = (d / "sine.pt").read_bytes()
    (d / "sine.pt").write_bytes(data[: len(data) // 2])
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _corrupt_config(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    (d / "sine.json").write_text("{not json")
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _weights_mismatch(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    cfg = json.loads((d / "sine.json").read_text())
    (d / "sine.json").write_text(json.dumps({**cfg, "hidden": cfg["hidden"] * 2}))
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _old_version(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    cfg = json.loads((d / "sine.json").read_text())
    (d / "sine.json").write_text(json.dumps({**cfg, "priorsep_version": "9.0.0"}))
    return ["separate", _mix_file(tmp), "--priors", str(d), "--out", str(tmp / "o"), *FAST]


def _unreadable_audio(tmp, p):
    (tmp / "garbage.wav").write_bytes(b"RIFF but not really a wav file" * 10)
    return ["separate", str(tmp / "garbage.wav"), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _missing_audio(tmp, p):
    return ["separate", str(tmp / "nope.wav"), "--priors", p, "--out", str(tmp / "o"), *FAST]


def _overwrite_input(tmp, p):
    return ["separate", _mix_file(tmp, name="sine.wav"), "--priors", p, "--out", str(tmp), *FAST]


def _init_is_out(tmp, p):
    return ["train-prior", "--data", "toy", "--source", "sine", "--init", f"{p}/sine", "--out", f"{p}/sine",
            "--steps", "1", "--quiet"]


def _damaged_resume(tmp, p):
    (tmp / "r.train.pt").write_bytes(b"\x00" * 100)
    return ["train-prior", "--data", "toy", "--source", "sine", "--steps", "1", "--crop", "64", "--squeeze", "4",
            "--n-blocks", "1", "--hidden", "4", "--n-layers", "1", "--out", str(tmp / "r"), "--quiet", "--resume"]


def _existing_checkpoint(tmp, p):
    d = _priors_copy(p, tmp / "pri")
    return ["train-prior", "--data", "toy", "--source", "sine", "--steps", "1", "--out", f"{d}/sine", "--quiet"]


def _bad_setting(tmp, p):
    return ["separate", _mix_file(tmp), "--priors", p, "--out", str(tmp / "o"), "--step-size", "-1", *FAST]


def _bad_jobs(tmp, p):
    return ["separate", _mix_file(tmp), "--priors", p, "--out", str(tmp / "o"), "--jobs", "0", *FAST]


def _empty_data_folder(tmp, p):
    (tmp / "stems").mkdir()
    return ["train-prior", "--data", str(tmp / "stems"), "--source", "bass", "--steps", "1", "--out", str(tmp / "x"),
            "--quiet"]


def _stereo_rates_folder(tmp, p):
    (tmp / "stems").mkdir()
    write_audio(tmp / "stems" / "a.wav", np.sin(np.arange(4000) * 0.1).astype(np.float32), 16000)
    write_audio(tmp / "stems" / "b.wav", np.sin(np.arange(4000) * 0.1).astype(np.float32), 22050)
    return ["train-prior", "--data", str(tmp / "stems"), "--source", "bass", "--steps", "1", "--crop", "64",
            "--out", str(tmp / "x"), "--quiet"]


CLI_CASES = {
    "nan samples": (_nan, "NaN"),
    "inf samples": (_inf, "NaN or inf"),
    "all-zero mix": (_silent, "all zeros"),
    "empty mix": (_empty, "empty"),
    "mix at the wrong sample rate": (_rate, "16000 Hz but the priors expect 14700 Hz"),
    "priors with mismatched sample rates": (_mixed_rates, "mismatched sample rates"),
    "unknown prior set": (_unknown_set, "no prior set 'no-such-set'"),
    "unknown baseline": (_unknown_baseline, "no baseline 'no-such-model'"),
    "unknown toy source": (_unknown_source, "unknown toy source 'violin'"),
    "missing checkpoint weights": (_missing_weights, "file missing"),
    "truncated checkpoint weights": (_truncated_weights, "corrupt prior weights"),
    "corrupt checkpoint config": (_corrupt_config, "corrupt prior config"),
    "weights that do not fit the config": (_weights_mismatch, "do not fit their config"),
    "checkpoint from an incompatible version": (_old_version, "incompatible with this priorsep"),
    "unreadable audio file": (_unreadable_audio, "cannot read"),
    "missing audio file": (_missing_audio, "audio file not found"),
    "output would overwrite the input": (_overwrite_input, "overwrite the input"),
    "fine-tuning onto its own input": (_init_is_out, "never overwrites its input"),
    "damaged resume file": (_damaged_resume, "cannot resume"),
    "training onto an existing checkpoint": (_existing_checkpoint, "exists; pass --resume"),
    "invalid sampler setting": (_bad_setting, "step_size"),
    "invalid --jobs": (_bad_jobs, "--jobs must be >= 1"),
    "training folder without audio": (_empty_data_folder, "no audio files"),
    "training files at several rates": (_stereo_rates_folder, "different sample rates"),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_bad_input_is_a_clear_error(case, tiny_toy_priors, tmp_path, capsys):
    setup, fragment = CLI_CASES[case]
    argv = setup(tmp_path, str(tiny_toy_priors))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err, err
    assert "Traceback" not in err and err.count("\n") == 1  # one line: the problem and the fix
    for p, data in before.items():  # nothing the user gave was changed
        assert p.read_bytes() == data, p


API_CASES = {
    "3-D array": (lambda: np.ones((2, 2, 64), np.float32), InvalidAudioError),
    "(T, C) array": (lambda: np.ones((512, 2), np.float32), InvalidAudioError),
    "int16 PCM": (lambda: (MIX * 3000).astype(np.int16), InvalidAudioError),
    "complex": (lambda: MIX.astype(np.complex64), InvalidAudioError),
    "strings": (lambda: ["a", "b"], InvalidAudioError),
    "None": (lambda: None, InvalidAudioError),
    "out-of-range peak": (lambda: MIX * 1e6, InvalidAudioError),
}


@pytest.mark.parametrize("case", API_CASES)
def test_api_bad_input_is_a_documented_error(case, tiny_toy_priors):
    make, error = API_CASES[case]
    with pytest.raises(error):
        priorsep.langevin_separate(make(), priors=str(tiny_toy_priors), n_levels=1, steps_per_level=1)


def test_api_errors_are_documented_and_keep_builtin_bases(tmp_path):
    with pytest.raises(UnknownNameError):
        priorsep.load_priors("no-such-set")
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError, for existing callers
        priorsep.load_priors("no-such-set")
    with pytest.raises(ConfigError):
        priorsep.langevin_separate(MIX, priors=object())
    for cls in (AudioFileError, CheckpointError, OutputConflictError, SampleRateError):
        assert issubclass(cls, PriorsepError) and issubclass(cls, ValueError)
