"""The device path: ``device=`` / ``--device`` are checked, and nothing in separation creates a tensor
on torch's default device instead of the input's (what would break on a GPU).

The guard runs each separator once normally, then again with torch's default device set to
``meta``: a tensor created without an explicit device lands there and the run fails (or changes),
so a passing run has every tensor on its input's device. This is how the CPU-only test machine
checks the code a GPU would run.
"""
import numpy as np
import pytest
import torch

import priorsep
from priorsep.cli import main
from priorsep.data.audio import write_audio
from priorsep.data.toy import toy_eval_set
from priorsep.device import device_name, resolve_device
from priorsep.errors import ConfigError
from priorsep.separation.files import separate_files

FAST = dict(n_levels=2, steps_per_level=2)


@pytest.fixture(scope="module")
def mix():
    return toy_eval_set(1, 4096, seed=5).mixes[0]


def test_devices_resolve_or_say_what_was_wrong():
    assert resolve_device(None) == torch.device("cpu") == resolve_device("cpu") == resolve_device(torch.device("cpu"))
    assert device_name(torch.device("cpu")) == "cpu"
    for bad, words in [("tpu", "is not a device"), ("meta", "not 'meta'"), (3.5, "is not a device")]:
        with pytest.raises(ConfigError, match=words):
            resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA device is available"):
            resolve_device("cuda")
        with pytest.raises(ConfigError, match="no CUDA device"):
            priorsep.load_separator("toy", device="cuda")
    else:
        assert resolve_device("cuda").type == "cuda"


def _on_meta_default(sep, mix, draws: bool):
    torch.set_default_device("meta")
    try:
        out = sep.separate(mix)
        if draws:
            sep.separate_with_draws(mix, 2)
    finally:
        torch.set_default_device("cpu")
    return out


#: the mask family at its smallest: the bundled sets' full searches, polish and draws, but short
MASK = dict(space="mask", n_levels=2, steps_per_level=2, mask_n_fft=256, mask_hop=64)


@pytest.mark.parametrize("spec,method,settings", [
    ("toy", "langevin", FAST),
    ("toy", "langevin", {**FAST, "space": "signal"}),
    ("tiny-wavenet", "langevin", {**MASK, "polish_rounds": 1, "polish_split": True, "polish_split_swap": True,
                                  "mask_assign": True, "score_precision": "bfloat16"}),
    ("toy-wavenet", "hybrid", {**FAST, "polish_rounds": 0}),
    ("toy-wavenet", "variational", {}),
    ("waveunet-toy", None, {}),
    ("factorgan-toy", None, {}),
])
def test_separation_creates_no_tensor_on_the_default_device(spec, method, settings, mix, tiny_toy_wavenet_priors):
    spec = tiny_toy_wavenet_priors if spec == "tiny-wavenet" else spec
    sep = priorsep.load_separator(spec, method, device="cpu", **settings)
    assert sep.device == torch.device("cpu")
    short = mix[:2048]
    expected = sep.separate(short)
    out = _on_meta_default(sep, short, draws=method is not None)
    assert all(np.array_equal(out[k], expected[k]) for k in expected)


def test_device_cpu_changes_nothing(mix):
    a = priorsep.langevin_separate(mix, seed=3, device="cpu", **FAST)
    b = priorsep.langevin_separate(mix, seed=3, **FAST)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    v = priorsep.variational_separate(mix, device="cpu")
    assert all(np.array_equal(v[k], priorsep.variational_separate(mix)[k]) for k in v)


class Halves(priorsep.Separator):
    """A separator without weights: the protocol's own ``to`` and ``device``."""
    names, sample_rate, weights, label = ["a", "b"], 14700, [0.5, 0.5], "halves"

    def separate_tensor(self, mixes):
        return torch.stack([mixes, mixes], 1)


def test_a_separator_without_weights_runs_on_the_cpu_only(mix):
    sep = Halves()
    assert sep.device == torch.device("cpu") and sep.to("cpu") is sep
    assert priorsep.load_separator(sep, device="cpu") is sep
    np.testing.assert_array_equal(sep.separate(mix)["a"], mix)
    with pytest.raises(ConfigError):
        sep.to("cuda")


def test_worker_processes_are_for_cpu_separators(tmp_path, mix):
    class OnAnotherDevice(priorsep.Separator):
        names, sample_rate, weights, label = ["a"], 14700, [1.0], "elsewhere"
        device = torch.device("meta")

    write_audio(tmp_path / "a.wav", mix, 14700)
    write_audio(tmp_path / "b.wav", mix, 14700)
    with pytest.raises(ConfigError, match="--jobs 2 shares out the CPU cores"):
        separate_files([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "out", OnAnotherDevice(), jobs=2)


def test_the_cli_takes_a_device(tmp_path, mix, capsys):
    path = tmp_path / "mix.wav"
    write_audio(path, mix[:1000], 14700)
    assert main(["separate", str(path), "--out", str(tmp_path / "o"), "--quiet", "--device", "cpu",
                 "--n-levels", "2", "--steps-per-level", "2"]) == 0
    assert (tmp_path / "o" / "sine.wav").is_file()
    assert main(["separate", str(path), "--out", str(tmp_path / "p"), "--quiet", "--device", "tpu"]) == 2
    assert "device 'tpu' is not a device" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()
