"""The bundled toy baselines: loadable, small, and still separating as well as when they were bundled
(a regression test of scores on fixed held-out mixes, open-unmix style)."""
import numpy as np
import pytest

from priorsep import baselines
from priorsep.baselines.io import BUNDLED_DIR
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.evaluation.benchmark import si_sdri_per_mix
from priorsep.evaluation.toy_benchmark import default_toy_baselines

# median SI-SDRi (dB) over 4 held-out mixes (seed 4242) measured when bundled, minus a 1 dB margin
MIN_SI_SDRI = {"waveunet-toy": 13.11 - 1, "factorgan-toy": 8.29 - 1}

NAMES = ["waveunet-toy", "factorgan-toy"]


def test_both_toy_baselines_are_bundled():
    assert default_toy_baselines() == ["waveunet-toy", "factorgan-toy"]


@pytest.mark.parametrize("name", NAMES)
def test_bundled_baseline_metadata_and_size(name):
    model = baselines.load(name)
    assert model.names == list(TOY_SOURCES) and model.sample_rate == 14700 and model.weights == [0.25] * 4
    assert model.config["training_data"] and model.config["trained_steps"] > 0
    assert (model.config.get("paired_items") or model.config.get("paired")) > 0
    assert (BUNDLED_DIR / f"{name}.pt").stat().st_size < 8 * 2**20


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_bundled_baseline_scores_do_not_regress(name):
    model = baselines.load(name)
    data = toy_eval_set(4, 16384, seed=4242)
    scores = si_sdri_per_mix(model.separate, data, TOY_SOURCES)
    assert np.median(scores) >= MIN_SI_SDRI[name], np.median(scores, 0)
