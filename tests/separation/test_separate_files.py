"""Separating many files: folders, --jobs workers, skipping finished outputs, same output whatever the split."""
import numpy as np
import pytest

from priorsep.cli import main
from priorsep.data.audio import read_audio, write_audio
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.errors import OutputConflictError
from priorsep import load_separator
from priorsep.separation.files import collect_inputs, separate_files

FAST = {"n_levels": 2, "steps_per_level": 2}


@pytest.fixture
def mix_folder(tmp_path):
    folder = tmp_path / "mixes"
    (folder / "sub").mkdir(parents=True)
    data = toy_eval_set(3, 512, seed=11)
    for i, rel in enumerate(["a.wav", "b.wav", "sub/c.wav"]):
        write_audio(folder / rel, data.mixes[i], 14700)
    return folder


def _outputs(out):
    return {p.relative_to(out).as_posix(): read_audio(p)[0] for p in sorted(out.rglob("*.wav"))}


def test_folder_with_workers_matches_one_process_and_resumes(tiny_toy_priors, mix_folder, tmp_path):
    sep = load_separator(tiny_toy_priors, seed=3, **FAST)
    one, two = tmp_path / "one", tmp_path / "two"
    assert separate_files([mix_folder], one, sep, quiet=True) == {"separated": 3, "skipped": 0, "total": 3}
    assert separate_files([mix_folder], two, sep, jobs=2, quiet=True)["separated"] == 3
    a, b = _outputs(one), _outputs(two)
    assert sorted(a) == sorted(f"{n}/{s}.wav" for n in ["a", "b", "sub/c"] for s in TOY_SOURCES)
    for k in a:  # same seed per file: identical whichever worker separated it
        np.testing.assert_array_equal(a[k], b[k])

    # an interrupted batch: one input lost an output; only that input is separated again
    stamp = {p: p.stat().st_mtime_ns for p in one.rglob("*.wav")}
    (one / "b" / "sine.wav").unlink()
    assert separate_files([mix_folder], one, sep, quiet=True) == {"separated": 1, "skipped": 2, "total": 3}
    for p, t in stamp.items():
        if p.parent.name != "b":
            assert p.stat().st_mtime_ns == t  # finished outputs untouched
    np.testing.assert_array_equal(read_audio(one / "b" / "sine.wav")[0], a["b/sine.wav"])


def test_cli_many_files_and_skip_message(tiny_toy_priors, mix_folder, tmp_path, capsys):
    files = [str(mix_folder / "a.wav"), str(mix_folder / "b.wav")]
    args = ["separate", *files, "--priors", str(tiny_toy_priors), "--out", str(tmp_path / "o"), "--n-levels", "2",
            "--steps-per-level", "2", "--quiet"]
    assert main(args) == 0
    assert (tmp_path / "o" / "a" / "square.wav").is_file() and (tmp_path / "o" / "b" / "square.wav").is_file()
    assert main(args) == 0
    assert "separated 0 input(s)" in capsys.readouterr().out


def test_inputs_that_would_collide_or_be_overwritten_are_refused(tiny_toy_priors, mix_folder, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    write_audio(other / "a.wav", toy_eval_set(1, 512, seed=1).mixes[0], 14700)
    with pytest.raises(OutputConflictError, match="same output folder"):
        collect_inputs([mix_folder / "a.wav", other / "a.wav"])
    sep = load_separator(tiny_toy_priors, **FAST)
    # a single input separated into its own folder under the name of a source
    write_audio(tmp_path / "sine.wav", toy_eval_set(1, 512, seed=1).mixes[0], 14700)
    with pytest.raises(OutputConflictError, match="overwrite the input"):
        separate_files([tmp_path / "sine.wav"], tmp_path, sep, quiet=True)


def test_a_long_file_interrupted_mid_way_resumes_per_batch_with_the_same_output(tiny_toy_priors, tmp_path,
                                                                                   monkeypatch):
    import priorsep.dsp.chunk_state as chunk_state
    import priorsep.separation.langevin as langevin
    from priorsep.separation.files import PARTIAL

    mix = tmp_path / "long.wav"
    write_audio(mix, toy_eval_set(1, 6000, seed=12).mixes[0], 14700)
    sep = load_separator(tiny_toy_priors, seed=5, chunk=1024, chunk_batch=2, **FAST)
    separate_files([mix], tmp_path / "whole", sep, quiet=True)
    whole = _outputs(tmp_path / "whole")

    monkeypatch.setattr(chunk_state, "SAVE_EVERY_S", 0.0)
    anneal, calls = langevin.anneal, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return anneal(*args, **kwargs)

    monkeypatch.setattr(langevin, "anneal", interrupted)
    with pytest.raises(KeyboardInterrupt):
        separate_files([mix], tmp_path / "out", sep, quiet=True)
    assert (tmp_path / "out" / PARTIAL).is_file() and not list((tmp_path / "out").glob("*.wav"))
    resumed_calls = []
    monkeypatch.setattr(langevin, "anneal", lambda *a, **k: (resumed_calls.append(1), anneal(*a, **k))[1])
    separate_files([mix], tmp_path / "out", sep, quiet=True)
    assert len(resumed_calls) == 6 - 2  # 11 chunks of 1024 in 6 batches of 2: the two saved batches are not redone
    assert not (tmp_path / "out" / PARTIAL).exists()
    out = _outputs(tmp_path / "out")
    assert sorted(out) == sorted(whole)
    for k in whole:
        np.testing.assert_array_equal(out[k], whole[k])
