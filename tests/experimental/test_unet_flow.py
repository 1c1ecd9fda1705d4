"""Flows with U-Net coupling conditioners (priorsep.experimental.unet_flow, kind "unet-flow")."""
import math

import pytest
import torch

from priorsep.experimental import UNetConditioner, UNetFlowPrior
from priorsep.priors.flow import AffineCoupling, FlowPrior
from priorsep.priors.io import build_prior

from ..conftest import FLOW_CONTEXT, randomised, tiny_flow
from .legacy import old_flow_checkpoints_load_as_the_new_family



def tiny_unet_flow(seed: int = 0, **kw) -> UNetFlowPrior:
    return tiny_flow(seed=seed, cls=UNetFlowPrior, **{"unet_levels": 1, **kw})


def test_unet_coupling_inverts_and_its_logdet_matches_the_jacobian():
    t = randomised(AffineCoupling(4, hidden=6, n_layers=0, conditioner=lambda i, o: UNetConditioner(i, o, 6, 2)))
    x = torch.randn(2, 4, 8, dtype=torch.float64)
    z, ld = t(x, context=FLOW_CONTEXT)
    x2, ld_inv = t.inverse(z, context=FLOW_CONTEXT)
    torch.testing.assert_close(x2, x)
    torch.testing.assert_close(ld + ld_inv, torch.zeros(2, dtype=torch.float64))
    for b in range(2):
        f = lambda v: t(v.view(1, 4, 8), context=FLOW_CONTEXT[b : b + 1])[0].flatten()
        jac = torch.autograd.functional.jacobian(f, x[b].flatten())
        torch.testing.assert_close(ld[b], torch.linalg.slogdet(jac)[1])


def test_unet_flow_logprob_matches_change_of_variables_and_it_samples():
    prior = randomised(tiny_unet_flow())
    x = torch.randn(1, 16, dtype=torch.float64)
    ctx = torch.tensor([[math.log(0.2)]], dtype=torch.float64)
    f = lambda v: prior.transform(v.view(1, 1, 16), context=ctx)[0].flatten()
    z = f(x[0])
    jac = torch.autograd.functional.jacobian(f, x[0])
    expected = -0.5 * (z @ z + 16 * math.log(2 * math.pi)) + torch.linalg.slogdet(jac)[1]
    torch.testing.assert_close(prior.log_prob(x, 0.2)[0], expected)
    s = prior.sample(5, 32, 0.3, generator=torch.Generator().manual_seed(0))
    assert s.shape == (5, 32) and torch.isfinite(s).all()


def test_unet_conditioner_sees_the_whole_window_and_sets_the_length_multiple():
    prior = randomised(tiny_unet_flow(unet_levels=3))
    assert prior.length_multiple == 4 * 2**3
    x = torch.randn(1, 64, dtype=torch.float64, requires_grad=True)
    prior.log_prob(x, 0.2)[0].backward()
    # with only 2 WaveNet layers a change at the last sample could not reach the first ones
    y = x.detach().clone()
    y[0, -1] += 1.0
    z0 = prior.transform(x.detach().view(1, 1, 64), context=torch.tensor([[math.log(0.2)]], dtype=torch.float64))[0]
    z1 = prior.transform(y.view(1, 1, 64), context=torch.tensor([[math.log(0.2)]], dtype=torch.float64))[0]
    assert (z1 - z0)[..., 0].abs().max() > 1e-6


def test_the_core_flow_refuses_unet_levels_and_the_unet_flow_needs_them():
    cfg = dict(source="sine", sample_rate=14700, sigma_min=0.01, sigma_max=1.0, squeeze=4, n_blocks=1, hidden=4,
               n_layers=1)
    with pytest.raises(ValueError, match="unet-flow"):
        FlowPrior({**cfg, "unet_levels": 2})
    assert FlowPrior({**cfg, "unet_levels": 0}).length_multiple == 4  # what bundled band configs record
    with pytest.raises(ValueError, match="unet_levels >= 1"):
        UNetFlowPrior(cfg)
    # a config that names the old option builds the experimental class, as the CLI's configs did
    assert type(build_prior({**cfg, "kind": "flow", "unet_levels": 2})) is UNetFlowPrior
    assert type(build_prior({**cfg, "kind": "unet-flow", "unet_levels": 2})) is UNetFlowPrior
    assert type(build_prior({**cfg, "kind": "flow", "unet_levels": 0})) is FlowPrior


def test_unet_flow_checkpoints_round_trip_and_old_flow_checkpoints_load_as_unet_flows(tmp_path):
    cfg, *loaded = old_flow_checkpoints_load_as_the_new_family(tiny_unet_flow(unet_levels=2), tmp_path)
    assert cfg["kind"] == "unet-flow" and cfg["module"] == "priorsep.experimental.unet_flow"
    assert all(back.length_multiple == 16 for back in loaded)  # the old config's option came back
