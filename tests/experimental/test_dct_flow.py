"""Flows in a fixed DCT basis (priorsep.experimental.dct_flow, kind "dct-flow")."""

import pytest
import torch

from priorsep.experimental import BlockDCT, DCTFlowPrior
from priorsep.priors.flow import FlowPrior
from priorsep.priors.io import build_prior

from ..conftest import tiny_flow
from .legacy import old_flow_checkpoints_load_as_the_new_family


def test_dct_basis_is_the_orthonormal_dct_and_inverts():
    from scipy.fft import dct

    x = torch.randn(2, 8, 3, dtype=torch.float64)
    z, ld = BlockDCT(8)(x)
    expected = torch.from_numpy(dct(x.numpy(), type=2, norm="ortho", axis=1))
    torch.testing.assert_close(z, expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(BlockDCT(8).inverse(z)[0], x)
    assert ld.abs().max() == 0  # volume-preserving


def test_dct_flow_needs_its_basis_and_configs_naming_the_old_option_build_it():
    with pytest.raises(ValueError, match="basis 'dct'"):
        tiny_flow(cls=DCTFlowPrior, basis="learned")
    cfg = dict(source="sine", sample_rate=14700, sigma_min=0.01, sigma_max=1.0, squeeze=4, n_blocks=1, hidden=4,
               n_layers=1)
    assert type(build_prior({**cfg, "kind": "flow", "basis": "dct"})) is DCTFlowPrior  # what --basis dct gives
    assert type(build_prior({**cfg, "kind": "dct-flow"})) is DCTFlowPrior
    assert type(build_prior({**cfg, "kind": "flow", "basis": "learned"})) is FlowPrior


def test_dct_flow_checkpoints_round_trip_and_old_flow_checkpoints_load_as_dct_flows(tmp_path):
    cfg, *_ = old_flow_checkpoints_load_as_the_new_family(tiny_flow(cls=DCTFlowPrior), tmp_path)
    assert cfg["kind"] == "dct-flow" and cfg["basis"] == "dct" and cfg["module"] == "priorsep.experimental.dct_flow"
