import json
import math

import pytest
import torch

from priorsep.data.toy import TOY_SOURCES

from priorsep.priors.flow import FlowPrior
from priorsep.priors.gaussian import GaussianPrior
from priorsep.priors.io import PriorSet, save_prior
from priorsep.priors.wavenet import WaveNetPrior

torch.set_num_threads(2)

#: log-sigma contexts of a batch of two, for flow transforms
FLOW_CONTEXT = torch.tensor([[math.log(0.1)], [math.log(0.5)]], dtype=torch.float64)


def randomised(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` with non-trivial parameters (zero-initialised couplings would be the identity), in
    float64 and eval mode."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return module.double().eval()


def tiny_flow(source: str = "sine", rate: int = 14700, seed: int = 0, cls: type = FlowPrior, **kw) -> FlowPrior:
    """A tiny flow of ``cls`` (:class:`FlowPrior` or an experimental subclass), in eval mode."""
    torch.manual_seed(seed)
    cfg = dict(source=source, sample_rate=rate, sigma_min=0.01, sigma_max=1.0, mix_weight=0.5,
               squeeze=4, n_blocks=2, hidden=8, n_layers=2)
    cfg.update(kw)
    return cls(cfg).eval()


def tiny_wavenet(source: str = "sine", seed: int = 0, **kw) -> WaveNetPrior:
    torch.manual_seed(seed)
    cfg = dict(source=source, sample_rate=14700, sigma_min=0.01, sigma_max=1.0, mix_weight=0.5,
               channels=8, skip_channels=8, n_layers=4, dilation_cycle=3, n_mix=2)
    cfg.update(kw)
    return WaveNetPrior(cfg).eval()


def zero_mean_set(variances, weights) -> PriorSet:
    """Zero-mean Gaussian priors ``s0, s1, ...`` with the given variances and mixing weights."""
    return PriorSet([GaussianPrior(dict(source=f"s{i}", sample_rate=8000, mean=0.0, variance=v, mix_weight=w))
                     for i, (v, w) in enumerate(zip(variances, weights))])


@pytest.fixture
def gaussian_set():
    """Two Gaussian priors with different means/variances, summed (w = 1)."""
    return PriorSet([
        GaussianPrior(dict(source="a", sample_rate=8000, mean=0.5, variance=1.0, mix_weight=1.0)),
        GaussianPrior(dict(source="b", sample_rate=8000, mean=-0.2, variance=0.25, mix_weight=1.0)),
    ])


#: the tiny test sets' own sampler settings (as a priorset.json may carry): signal-space Langevin,
#: which separates mixes of any length (the default mask search needs more than n_fft / 2 samples)
TINY_SET_SAMPLER = {"space": "signal", "sigma_max": 1.0, "n_levels": 20, "steps_per_level": 20}


def _toy_prior_folder(d, make):
    """Save ``make(name, seed=i, mix_weight=0.25)`` for every toy source into ``d``, with a priorset.json."""
    for i, name in enumerate(TOY_SOURCES):
        save_prior(make(name, seed=i, mix_weight=0.25), d / name)
    (d / "priorset.json").write_text(json.dumps({"sources": list(TOY_SOURCES), "langevin": TINY_SET_SAMPLER}))
    return d


@pytest.fixture(scope="session")
def tiny_toy_priors(tmp_path_factory):
    """A folder with tiny (untrained) flow priors for the four toy sources."""
    return _toy_prior_folder(tmp_path_factory.mktemp("priors"), tiny_flow)


@pytest.fixture(scope="session")
def tiny_toy_wavenet_priors(tmp_path_factory):
    """A folder with tiny (untrained) WaveNet priors for the four toy sources."""
    return _toy_prior_folder(tmp_path_factory.mktemp("wavenet_priors"), tiny_wavenet)
