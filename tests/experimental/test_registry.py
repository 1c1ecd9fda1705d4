"""The experimental families load through the registry: recorded modules, the legacy table, and
a core that never imports them until a checkpoint asks."""
import json
import subprocess
import sys
from pathlib import Path

import torch

from priorsep.experimental import DenoiserPrior
from priorsep.priors.io import PRIOR_KINDS, load_prior, save_prior
from priorsep.registry import LEGACY, kinds

ROOT = Path(__file__).resolve().parents[2]


def tiny_denoiser():
    torch.manual_seed(0)
    return DenoiserPrior(dict(source="sine", sample_rate=8000, sigma_min=0.01, sigma_max=1.0, mix_weight=0.25,
                              hidden=4, n_fft=64, hop=16, layers=1)).eval()


def test_importing_the_wing_registers_its_families_and_the_legacy_table_names_them():
    assert {"denoiser", "unet-flow"} <= set(kinds("prior"))
    assert PRIOR_KINDS["denoiser"] is DenoiserPrior and "denoiser" in PRIOR_KINDS
    for rule in LEGACY:
        assert rule.module.startswith("priorsep.experimental.")
        assert kinds(rule.family)[rule.now or rule.kind].__module__ == rule.module


def test_denoiser_checkpoints_with_and_without_their_module_load(tmp_path):
    p = tiny_denoiser()
    save_prior(p, tmp_path / "new")
    cfg = json.loads((tmp_path / "new.json").read_text())
    assert cfg["kind"] == "denoiser" and cfg["module"] == "priorsep.experimental.denoiser"
    (tmp_path / "old.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "module"}))
    (tmp_path / "old.pt").write_bytes((tmp_path / "new.pt").read_bytes())
    x = torch.randn(2, 64)
    for stem in ("new", "old"):
        q = load_prior(tmp_path / stem)
        assert type(q) is DenoiserPrior
        torch.testing.assert_close(q.denoise(x, 0.3), p.denoise(x, 0.3))


def test_the_core_imports_the_wing_only_when_a_checkpoint_needs_it(tmp_path):
    p = tiny_denoiser()
    save_prior(p, tmp_path / "new")
    cfg = json.loads((tmp_path / "new.json").read_text())
    (tmp_path / "old.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "module"}))
    (tmp_path / "old.pt").write_bytes((tmp_path / "new.pt").read_bytes())
    code = f"""
import sys
import priorsep, priorsep.api, priorsep.encoders, priorsep.baselines, priorsep.training.prior
from priorsep.baselines.io import baseline_kinds
baseline_kinds()
assert not any(m.startswith("priorsep.experimental") for m in sys.modules), "the core imported the wing"
for stem in ("new", "old"):
    for m in [m for m in sys.modules if m.startswith("priorsep.experimental")]:
        del sys.modules[m]
    from priorsep import registry
    registry._REGISTRY["prior"].pop("denoiser", None)
    prior = priorsep.load_prior({str(tmp_path)!r} + "/" + stem)
    assert type(prior).__module__ == "priorsep.experimental.denoiser", type(prior)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
