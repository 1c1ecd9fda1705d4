"""A prior set's spectral priors (``priorset.json``'s ``"fit"``) and its default method (``"default"``):
load_separator, langevin_separate and the CLI run the default, method "fit" loads the set's spectral separator
(beside the set or bundled), the benchmark lists it first, and what does not apply to it is a clear error."""
import json

import numpy as np
import pytest
import torch

import priorsep
from priorsep.api import default_method, prior_set_separators
from priorsep.baselines import save_baseline
from priorsep.baselines.spectral_vae import SpectralVAESeparator
from priorsep.cli import main
from priorsep.data.audio import read_audio, write_audio
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.errors import CheckpointError, ConfigError
from priorsep.priors.io import load_priors, save_prior
from priorsep.separation.separators import LangevinSeparator

from ..conftest import TINY_SET_SAMPLER, tiny_flow


def _spectral(sources=TOY_SOURCES) -> SpectralVAESeparator:
    torch.manual_seed(0)
    return SpectralVAESeparator(dict(sources=list(sources), sample_rate=14700, mix_weights=[0.25] * 4, n_fft=256,
                                     hop=64, context=2, latent=3, hidden=16, iterations=5))


def _set(folder, meta: dict, spectral: SpectralVAESeparator | None = None):
    """Tiny flows for the toy sources in ``folder``, ``spectral`` saved beside them as ``spectral``, and
    ``priorset.json`` = ``meta`` (with the tiny sets' sampler settings)."""
    folder.mkdir(exist_ok=True)
    for i, name in enumerate(TOY_SOURCES):
        save_prior(tiny_flow(name, seed=i, mix_weight=0.25), folder / name)
    if spectral is not None:
        save_baseline(spectral, folder / "spectral")
    (folder / "priorset.json").write_text(json.dumps({"langevin": TINY_SET_SAMPLER, **meta}))
    return folder


@pytest.fixture
def fit_set(tmp_path):
    return _set(tmp_path, {"sources": list(TOY_SOURCES), "fit": "spectral", "default": "fit"}, _spectral())


@pytest.fixture
def mix():
    return toy_eval_set(1, 2048, seed=5).mixes[0]


def test_the_default_method_is_the_fit_of_the_sets_spectral_priors(fit_set, mix):
    assert default_method(fit_set) == "fit" and default_method(load_priors(fit_set)) == "fit"
    sep = priorsep.load_separator(fit_set)
    assert isinstance(sep, SpectralVAESeparator) and sep.names == list(TOY_SOURCES)
    expected = sep.separate(mix)
    est = priorsep.langevin_separate(mix, priors=fit_set)  # the set's default, not the flows' search
    assert all(np.array_equal(est[n], expected[n]) for n in TOY_SOURCES)
    np.testing.assert_allclose(0.25 * sum(est.values()), mix, atol=1e-4)  # ratio masks: the mix exactly
    assert isinstance(priorsep.load_separator(fit_set, "langevin"), LangevinSeparator)


def test_a_set_without_a_default_keeps_langevin_and_can_still_be_fitted(tmp_path, mix):
    folder = _set(tmp_path, {"fit": "spectral"}, _spectral(sorted(TOY_SOURCES)))  # no "sources": priors by name
    assert load_priors(folder).names == sorted(TOY_SOURCES) and default_method(folder) == "langevin"
    assert isinstance(priorsep.load_separator(folder), LangevinSeparator)
    assert isinstance(priorsep.load_separator(folder, "fit"), SpectralVAESeparator)


def test_benchmark_rows_start_with_the_fit(fit_set):
    rows = prior_set_separators(fit_set)
    assert [type(r) for r in rows] == [SpectralVAESeparator, LangevinSeparator]


def test_what_the_fit_does_not_take_is_a_clear_error(fit_set, tiny_toy_priors, mix):
    with pytest.raises(ConfigError, match="takes no sampler settings.*n_levels.*method 'langevin'"):
        priorsep.langevin_separate(mix, priors=fit_set, n_levels=2)
    with pytest.raises(ConfigError, match="encoder"):
        priorsep.load_separator(fit_set, "fit", encoder="x")
    with pytest.raises(ConfigError, match="gives no posterior draws"):
        priorsep.langevin_separate(mix, priors=fit_set, samples=2)
    with pytest.raises(ConfigError, match="has no spectral priors to fit"):
        priorsep.load_separator(tiny_toy_priors, "fit")


def test_bad_fit_metadata_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="'default' method among"):
        load_priors(_set(tmp_path / "a", {"default": "sample"}))
    with pytest.raises(ConfigError, match="'fit' only with spectral priors"):
        load_priors(_set(tmp_path / "b", {"default": "fit"}))
    other = _set(tmp_path / "c", {"fit": "spectral"}, _spectral(list(reversed(TOY_SOURCES))))
    with pytest.raises(ConfigError, match="separate .* the set has"):
        priorsep.load_separator(other, "fit")


def test_cli_separates_with_the_sets_default_and_refuses_what_the_fit_does_not_take(fit_set, mix, tmp_path, capsys):
    wav = tmp_path / "mix.wav"
    write_audio(wav, mix, 14700)
    out = tmp_path / "sep"
    assert main(["separate", str(wav), "--priors", str(fit_set), "--out", str(out), "--quiet"]) == 0
    expected = priorsep.load_separator(fit_set).separate(mix)
    for name in TOY_SOURCES:
        np.testing.assert_allclose(read_audio(out / f"{name}.wav")[0][0], expected[name], atol=1e-4)
    assert main(["separate", str(wav), "--priors", str(fit_set), "--out", str(tmp_path / "o2"), "--quiet",
                 "--n-levels", "2"]) != 0
    assert "takes no sampler settings" in capsys.readouterr().err
