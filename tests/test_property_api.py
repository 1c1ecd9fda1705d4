"""Property-based: the public API, driven with random shapes, dtypes, values and settings, either
returns finite output of the right shape or raises a documented error (priorsep.errors) -- never a
raw traceback from inside numpy or torch."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import priorsep
from priorsep.baselines.waveunet import WaveUNet
from priorsep.errors import PriorsepError
from priorsep.evaluation.metrics import si_sdr

DTYPES = [np.float32, np.float64, np.float16, np.int16, np.int32, np.bool_, np.complex64, np.uint8]
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _values(dtype):
    if np.issubdtype(dtype, np.floating):
        return st.one_of(st.floats(-1.5, 1.5, width=16), st.sampled_from([0.0, np.nan, np.inf, -np.inf, 1e4, -3e3]))
    return None  # hypothesis' default elements for the dtype


@st.composite
def mixes(draw):
    """Arrays of rank 0..3 with small dimensions (time up to 300), any listed dtype, values that
    include NaN, inf, zeros and out-of-range peaks; or things that are not arrays at all."""
    kind = draw(st.sampled_from(["array"] * 8 + ["tensor", "other"]))
    if kind == "other":
        return draw(st.sampled_from([None, "mix.wav", 3.0, [], [[0.1], [0.2, 0.3]], {"a": 1}, object()]))
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4).map(
        lambda s: s[:-1] + (s[-1] * 75,) if s else s))
    arr = draw(hnp.arrays(dtype, shape, elements=_values(dtype)))
    if kind == "tensor" and arr.dtype.kind == "f":
        return torch.from_numpy(arr.astype(np.float32))
    return arr


def _check(out, mix):
    shape = np.shape(mix)
    assert set(out) and all(v.shape == shape and np.all(np.isfinite(v)) for v in out.values())


@pytest.fixture(scope="module")
def tiny_separator():
    torch.manual_seed(0)
    return WaveUNet(dict(sources=["a", "b"], sample_rate=8000, mix_weights=[1.0, 1.0], levels=2, features=4,
                         output_length=64)).eval()


@SETTINGS
@given(mix=mixes())
def test_langevin_separate_returns_finite_or_documented_error(tiny_toy_priors, mix):
    try:
        out = priorsep.langevin_separate(mix, priors=priorsep.load_priors(tiny_toy_priors), seed=0, n_levels=1,
                                         steps_per_level=1)
    except PriorsepError:
        return
    _check(out, mix)


@SETTINGS
@given(mix=mixes())
def test_baseline_separate_returns_finite_or_documented_error(tiny_separator, mix):
    try:
        out = tiny_separator.separate(mix)
    except PriorsepError:
        return
    _check(out, mix)


SETTING_VALUES = st.one_of(st.integers(-3, 3), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                           st.sampled_from(["dirac", "gaussian", "noise", "mixture", "bogus", None]))


@SETTINGS
@given(options=st.dictionaries(
    st.sampled_from(["n_levels", "steps_per_level", "step_size", "sigma_max", "sigma_min", "constraint", "init",
                     "n_chains", "chunk", "gamma_scale", "denoise", "predictor", "select_below", "no_such_option"]),
    SETTING_VALUES, max_size=4), seed=st.one_of(st.none(), st.integers(-2**70, 2**70), st.just("x")))
def test_langevin_settings_return_finite_or_documented_error(tiny_toy_priors, options, seed):
    mix = np.sin(np.arange(64) * 0.3).astype(np.float32)
    options = {"n_levels": 1, "steps_per_level": 1, **options}
    if isinstance(options.get("n_levels"), int) and isinstance(options.get("steps_per_level"), int):
        options["n_levels"] = min(options["n_levels"], 3)
    try:
        out = priorsep.langevin_separate(mix, priors=priorsep.load_priors(tiny_toy_priors), seed=seed, **options)
    except PriorsepError:
        return
    _check(out, mix)


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    """An empty working directory: no relative name can reach a checkpoint by accident."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@SETTINGS
@given(name=st.text(max_size=12))
@example(name="toy")
@example(name="waveunet-toy")
@example(name=".")
@example(name="")
def test_loading_any_name_loads_exactly_the_bundled_names(empty_cwd, name):
    """In an empty folder a name loads if and only if it is bundled (prior sets for load_priors,
    baselines for baselines.io.load); any other raises a documented error."""
    from priorsep.baselines.io import bundled_baselines
    from priorsep.priors.io import bundled_prior_sets

    for load, bundled in ((priorsep.load_priors, bundled_prior_sets()),
                          (priorsep.baselines.io.load, bundled_baselines())):
        try:
            loaded = load(name)
        except PriorsepError:
            assert name not in bundled, f"bundled {name!r} did not load"
            continue
        assert name in bundled, f"{name!r} loaded although nothing is bundled under that name"
        assert loaded.names and loaded.sample_rate > 0


@SETTINGS
@given(est=mixes(), ref=mixes())
def test_si_sdr_returns_finite_or_documented_error(est, ref):
    try:
        v = si_sdr(est, ref)
    except PriorsepError:
        return
    assert np.all(np.isfinite(v))
