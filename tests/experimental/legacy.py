"""A check shared by the experimental flow families that used to be options of the core flow."""
import json

import torch

from priorsep.priors.io import load_prior, save_prior


def old_flow_checkpoints_load_as_the_new_family(prior, tmp_path) -> list:
    """Save ``prior`` (its ActNorm state data-initialised first), write the same checkpoint as one
    from before the move (kind ``"flow"``, class ``FlowPrior``, no ``"module"``), load both and
    check each is ``prior``'s class with its log-densities. Returns ``[new config, *loaded priors]``."""
    x = torch.randn(2, 32)
    prior.train()
    prior.log_prob(x, 0.1)  # ActNorm's data init: state to round-trip
    prior.eval()
    save_prior(prior, tmp_path / "new")
    cfg = json.loads((tmp_path / "new.json").read_text())
    old = {k: v for k, v in cfg.items() if k != "module"}
    (tmp_path / "old.json").write_text(json.dumps({**old, "kind": "flow", "model_class": "FlowPrior"}))
    (tmp_path / "old.pt").write_bytes((tmp_path / "new.pt").read_bytes())
    loaded = []
    for stem in ("new", "old"):
        back = load_prior(tmp_path / stem)
        assert type(back) is type(prior)
        torch.testing.assert_close(back.log_prob(x, 0.1), prior.log_prob(x, 0.1))
        loaded.append(back)
    return [cfg, *loaded]
