"""The manifests beside the bundled models: every bundled model is in one, with a recipe and results that exist.

priorsep/priors/bundled/manifest.json lists each prior set (a folder) and each set's encoder (encoder.pt);
priorsep/baselines/bundled/manifest.json each baseline (NAME.pt). ``recipe`` or a results entry's ``files`` may
be null (not found or not kept: the manifest says so), but every model has at least one results file."""
import json
import shlex

import pytest

from .scripts import REPO, parse_command

PRIORS = REPO / "priorsep" / "priors" / "bundled"
BASELINES = REPO / "priorsep" / "baselines" / "bundled"


def bundled_models() -> dict:
    """manifest folder -> the bundled models found on disk, as manifest paths."""
    priors = {p.name for p in PRIORS.iterdir() if p.is_dir() and any(p.glob("*.pt"))}
    priors |= {f"{p.parent.name}/{p.name}" for p in PRIORS.glob("*/encoder.pt")}
    return {PRIORS: priors, BASELINES: {p.name for p in BASELINES.glob("*.pt")}}


def manifest_entries():
    for folder in (PRIORS, BASELINES):
        manifest = json.loads((folder / "manifest.json").read_text())
        for name, entry in manifest["models"].items():
            yield pytest.param(folder, name, entry, id=f"{folder.parent.name}:{name}")


def test_every_bundled_model_is_in_its_manifest():
    for folder, on_disk in bundled_models().items():
        listed = {e["path"] for e in json.loads((folder / "manifest.json").read_text())["models"].values()}
        assert on_disk == listed, f"{folder / 'manifest.json'}: missing {on_disk - listed}, stale {listed - on_disk}"


@pytest.mark.parametrize("folder,name,entry", list(manifest_entries()))
def test_manifest_entry(folder, name, entry):
    model = folder / entry["path"]
    assert model.exists(), f"{name}: {model} does not exist"
    if model.suffix == ".pt":
        assert model.with_suffix(".json").is_file(), f"{name}: no {model.with_suffix('.json').name}"
    recipe = entry["recipe"]
    if recipe is not None:
        for key in ("path", "data"):
            if recipe.get(key) is not None:
                assert recipe[key].startswith("benchmarks/recipes/"), \
                    f"{name}: recipe {key} outside benchmarks/recipes/"
                assert (REPO / recipe[key]).is_file(), f"{name}: recipe {key} {recipe[key]} does not exist"
    for log in entry.get("training_logs", []):
        assert (REPO / log).exists(), f"{name}: training log {log} does not exist"
    results = entry["results"]
    assert any(r["files"] for r in results), f"{name}: no results file at all"
    for r in results:
        assert r["backs"], f"{name}: a results entry says nothing about what it backs"
        for f in r["files"] or []:
            assert f.startswith("benchmarks/results/") and (REPO / f).exists(), f"{name}: {f} does not exist"
        commands = r["command"] if isinstance(r["command"], list) else [r["command"]] if r["command"] else []
        for command in commands:  # each still parses with today's CLI or script
            parse_command(shlex.split(command), f"{name}: {command}")
        if r["files"] and commands:
            written = {f for f in r["files"] if not f.endswith(".txt")}  # the .txt is the printed table
            assert all(any(f in c for c in commands) for f in written), f"{name}: no command writes {written}"


def test_the_manifest_is_not_a_bundled_baseline():
    from priorsep.baselines.io import bundled_baselines

    assert "manifest" not in bundled_baselines()
