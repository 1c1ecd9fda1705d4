"""The bundled toy prior sets: loadable, consistent metadata, and discriminative."""
import numpy as np
import pytest

import priorsep
from priorsep.data.toy import TOY_SOURCES, toy_eval_set
from priorsep.evaluation.crosslik import cross_likelihood
from priorsep.evaluation.toy_benchmark import default_toy_prior_sets

FAMILY = {"toy": "flow", "toy-wavenet": "wavenet"}
SETS = default_toy_prior_sets()


def test_the_default_flow_set_is_bundled():
    assert "toy" in SETS


@pytest.mark.parametrize("name", SETS)
def test_bundled_toy_set_metadata(name):
    priors = priorsep.load_priors(name)
    assert priors.names == list(TOY_SOURCES)
    assert priors.sample_rate == 14700
    assert priors.weights == [0.25] * 4
    assert priors.kind == FAMILY[name]
    for p in priors:
        assert p.config["mixing"] == "mean" and p.config["sigma_min"] == 0.01


@pytest.mark.parametrize("name", SETS)
def test_bundled_toy_priors_are_discriminative_at_low_noise(name):
    """Every source's fresh test data scores highest under its own prior (the cross-likelihood test)."""
    priors = priorsep.load_priors(name)
    ev = toy_eval_set(4, 2048, seed=31337)
    data = {n: ev.sources[:, k] for k, n in enumerate(TOY_SOURCES)}
    m = cross_likelihood(priors, data, [0.01], seed=0)[0]
    assert np.all(m.argmax(1) == np.arange(4)), m
