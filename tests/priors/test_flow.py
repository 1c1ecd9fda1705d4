
import pytest
import torch

from priorsep.priors.flow import ActNorm1d, AffineCoupling, InvConv1x1, SigmaScale, Squeeze1d

from ..conftest import FLOW_CONTEXT, randomised, tiny_flow



TRANSFORMS = {
    "sigma_scale": lambda: SigmaScale(0.5),
    "squeeze": lambda: Squeeze1d(2),
    "actnorm": lambda: ActNorm1d(4),
    "conv1x1": lambda: InvConv1x1(4),
    "coupling": lambda: AffineCoupling(4, hidden=6, n_layers=2),
}


def _input(name):
    return torch.randn(2, 2 if name == "squeeze" else (1 if name == "sigma_scale" else 4), 8, dtype=torch.float64)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_inverts_and_logdets_cancel(name):
    t = randomised(TRANSFORMS[name]())
    x = _input(name)
    z, ld = t(x, context=FLOW_CONTEXT)
    x2, ld_inv = t.inverse(z, context=FLOW_CONTEXT)
    torch.testing.assert_close(x2, x)
    torch.testing.assert_close(ld + ld_inv, torch.zeros(2, dtype=torch.float64))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_transform_logdet_matches_autograd_jacobian(name):
    t = randomised(TRANSFORMS[name]())
    x = _input(name)
    _, ld = t(x, context=FLOW_CONTEXT)
    for b in range(2):
        f = lambda v: t(v.view(1, *x.shape[1:]), context=FLOW_CONTEXT[b : b + 1])[0].flatten()
        jac = torch.autograd.functional.jacobian(f, x[b].flatten())
        torch.testing.assert_close(ld[b], torch.linalg.slogdet(jac)[1])


def test_actnorm_initialises_from_data_in_training_mode():
    an = ActNorm1d(3).train()
    x = 5 + 3 * torch.randn(8, 3, 100)
    z, _ = an(x)
    assert bool(an.initialized)
    torch.testing.assert_close(z.mean(dim=(0, 2)), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(dim=(0, 2)), torch.ones(3), atol=1e-3, rtol=0)


def test_the_flow_refuses_other_bases():
    with pytest.raises(ValueError, match="basis 'fourier'"):
        tiny_flow(basis="fourier")
    with pytest.raises(ValueError, match="dct-flow"):
        tiny_flow(basis="dct")
