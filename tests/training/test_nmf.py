"""Training the NMF dictionaries: one source's dictionary learns that source's spectrum, a run cut
after a source resumes to the dictionaries of an uninterrupted run, and the CLI trains end to end."""
import json

import pytest
import torch

from priorsep.baselines import load_baseline
from priorsep.cli import main
from priorsep.errors import DataError
from priorsep.training.nmf import draw_exemplars, pick_exemplars, train_nmf

from ..baselines.test_nmf import _tones, tiny


class _Broken:
    def __getitem__(self, i):
        raise RuntimeError("interrupted")


def _solo_sets():
    tones = _tones([300.0, 1200.0, 3000.0, 6000.0])
    return [[tones[k] * (0.5 + 0.1 * i) for i in range(3)] for k in range(4)]


def test_a_cut_run_resumes_to_the_same_dictionaries(tmp_path):
    full = tiny(rank=2)
    train_nmf(full, _solo_sets(), tmp_path / "full", steps=15, crops=3, quiet=True)
    peaks = torch.fft.rfftfreq(256, 1 / 14700)[full.dictionaries[:, :, 0].argmax(-1)]
    # each dictionary learnt its own tone (within 1.5 STFT bins)
    assert torch.allclose(peaks, torch.tensor([300.0, 1200.0, 3000.0, 6000.0]), atol=1.5 * 14700 / 256)

    cut = tiny(rank=2)
    sets = _solo_sets()
    with pytest.raises(RuntimeError, match="interrupted"):
        train_nmf(cut, sets[:2] + [_Broken()] + sets[3:], tmp_path / "cut", steps=15, crops=3, quiet=True)
    assert torch.load(tmp_path / "cut.train.pt", weights_only=True)["step"] == 30
    assert not (tmp_path / "cut.pt").exists()  # no usable model before every dictionary is learnt
    resumed = tiny(rank=2)
    train_nmf(resumed, sets, tmp_path / "cut", steps=15, crops=3, quiet=True)
    assert torch.equal(resumed.dictionaries, full.dictionaries)
    assert len((tmp_path / "cut.log.jsonl").read_text().splitlines()) == 60


def test_cli_trains_on_toy_solo_crops(tmp_path, capsys):
    out = tmp_path / "nmf"
    assert main(["train-baseline", "--model", "nmf", "--data", "toy", "--out", str(out), "--steps", "3",
                 "--solo-crops", "2", "--rank", "2", "--n-fft", "256", "--hop", "64", "--quiet"]) == 0
    cfg = json.loads(out.with_suffix(".json").read_text())
    assert cfg["kind"] == "nmf" and cfg["rank"] == 2 and cfg["paired_items"] == 0 and cfg["trained_steps"] == 12
    assert "2 crops per source" in cfg["training_data"]
    assert cfg["training"] == {"steps": 3, "solo_crops": 2, "seed": 0}  # nothing that does not apply
    bad = ["train-baseline", "--model", "nmf", "--data", "toy", "--out", str(tmp_path / "b"), "--paired", "4"]
    assert main(bad) == 2
    assert "learns from solo crops only" in capsys.readouterr().err


def test_dictionaries_with_context_learn_each_source_in_every_frame(tmp_path):
    model = tiny(rank=2, context=3)
    train_nmf(model, _solo_sets(), tmp_path / "ctx", steps=15, crops=3, quiet=True)
    shapes = model.dictionaries[:, :, 0].reshape(4, 3, 129)  # (source, frame of the shape, bin)
    peaks = torch.fft.rfftfreq(256, 1 / 14700)[shapes.argmax(-1)]
    want = torch.tensor([300.0, 1200.0, 3000.0, 6000.0])[:, None].expand(4, 3)
    assert torch.allclose(peaks, want, atol=1.5 * 14700 / 256)
    out = tmp_path / "cli"
    assert main(["train-baseline", "--model", "nmf", "--data", "toy", "--out", str(out), "--steps", "2",
                 "--solo-crops", "2", "--rank", "2", "--n-fft", "256", "--hop", "64", "--context", "3", "--quiet"]) == 0
    assert json.loads(out.with_suffix(".json").read_text())["context"] == 3
    assert load_baseline(out).dictionaries.shape == (4, 3 * 129, 2)



def test_exemplars_are_solo_windows_and_a_cut_run_resumes_to_the_same_ones(tmp_path):
    sets = _solo_sets()
    full = tiny(rank=4, context=2)
    records = draw_exemplars(full, sets, tmp_path / "full", crops=3, quiet=True)
    assert [r["source"] for r in records] == list(full.names) and full.config["trained_steps"] == 4
    torch.testing.assert_close(full.dictionaries.sum(1), torch.ones(4, 4))
    peaks = torch.fft.rfftfreq(256, 1 / 14700)[full.dictionaries.reshape(4, 2, 129, 4).argmax(2)]
    want = torch.tensor([300.0, 1200.0, 3000.0, 6000.0])[:, None, None].expand(4, 2, 4)
    assert torch.allclose(peaks, want, atol=1.5 * 14700 / 256)  # every exemplar of source k is source k's tone
    cut = tiny(rank=4, context=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        draw_exemplars(cut, sets[:2] + [_Broken()] + sets[3:], tmp_path / "cut", crops=3, quiet=True)
    resumed = tiny(rank=4, context=2)
    draw_exemplars(resumed, sets, tmp_path / "cut", crops=3, quiet=True)
    assert torch.equal(resumed.dictionaries, full.dictionaries)
    silent = [[torch.zeros(8000)] * 3 for _ in range(4)]
    with pytest.raises(DataError, match="fewer than the 4 exemplars"):
        draw_exemplars(tiny(rank=4), silent, tmp_path / "silent", crops=3, quiet=True)


def test_spread_exemplars_reach_the_rare_shapes_that_random_ones_miss():
    # 3 shapes: 990 windows of the first, 5 each of the other two (and a little noise to tell windows apart)
    g = torch.Generator().manual_seed(0)
    shapes = torch.eye(3).repeat_interleave(torch.tensor([990, 5, 5]), dim=1)
    v = shapes + 0.01 * torch.rand(3, 1000, generator=g)
    picked = pick_exemplars(v, 3, torch.Generator().manual_seed(1), spread=True)
    assert picked.argmax(0).sort().values.tolist() == [0, 1, 2]  # one of each shape
    torch.testing.assert_close(picked.sum(0), torch.ones(3))
    random = [pick_exemplars(v, 3, torch.Generator().manual_seed(s)).argmax(0) for s in range(10)]
    assert sum(len(set(r.tolist())) == 3 for r in random) <= 1  # at random nearly always the common one thrice
    plain = pick_exemplars(v, 5, torch.Generator().manual_seed(2))
    want = v[:, torch.randperm(1000, generator=torch.Generator().manual_seed(2))[:5]]
    torch.testing.assert_close(plain, want / want.sum(0, keepdim=True), atol=1e-6, rtol=1e-4)
    distinct = pick_exemplars(v[:, :12], 12, torch.Generator().manual_seed(3), spread=True)
    assert len({tuple(c.tolist()) for c in distinct.T}) == 12  # never the same window twice


def test_cli_draws_exemplars_and_refuses_them_for_other_models(tmp_path, capsys):
    out, spread = tmp_path / "ex", tmp_path / "spread"
    args = ["train-baseline", "--model", "nmf", "--data", "toy", "--solo-crops", "2", "--rank", "8", "--n-fft", "256",
            "--hop", "64", "--context", "2", "--sparsity", "0.3", "--iterations", "50", "--quiet", "--exemplars"]
    assert main(args + ["--out", str(out)]) == 0
    cfg = json.loads(out.with_suffix(".json").read_text())
    assert (cfg["context"], cfg["sparsity"], cfg["iterations"]) == (2, 0.3, 50)
    assert load_baseline(out).label == "NMF exemplars, 2 frames"
    assert cfg["training"] == {"exemplars": True, "pick": "random", "solo_crops": 2, "seed": 0}
    assert cfg["trained_steps"] == 4
    assert main(args + ["spread", "--out", str(spread)]) == 0
    assert json.loads(spread.with_suffix(".json").read_text())["training"]["pick"] == "spread"
    assert load_baseline(spread).label == "NMF spread exemplars, 2 frames"
    assert not torch.equal(load_baseline(spread).dictionaries, load_baseline(out).dictionaries)  # another pick
    with pytest.raises(SystemExit):
        main(args + ["kmeans", "--out", str(tmp_path / "k")])
    assert "invalid choice: 'kmeans'" in capsys.readouterr().err
    bad = ["train-baseline", "--model", "waveunet", "--data", "toy", "--out", str(tmp_path / "w"), "--exemplars"]
    assert main(bad) == 2
    assert "--exemplars applies to --model nmf only" in capsys.readouterr().err
