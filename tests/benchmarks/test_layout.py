"""benchmarks/ says what it is: every script sits in recipes/, tools/ or probes/, is listed in the table of
tests/benchmarks/scripts.py with its check, and the usage lines its comments and docstrings give still parse."""
import importlib
import re
import shlex

import pytest

from .scripts import BENCH, DRY_RUNS, REPO, SMOKE_TESTS, benchmark_scripts, parse_command


def test_every_benchmark_script_is_in_the_table():
    on_disk = set(benchmark_scripts())
    listed = set(SMOKE_TESTS) | set(DRY_RUNS)
    assert not on_disk - listed, ("add these scripts to SMOKE_TESTS (a .py: the tests that run its main) or "
                                  f"DRY_RUNS (a .sh) in tests/benchmarks/scripts.py: {sorted(on_disk - listed)}")
    missing = sorted(listed - on_disk)
    assert not missing, f"listed in tests/benchmarks/scripts.py but not in benchmarks/: {missing}"
    assert all(s.endswith(".py") for s in SMOKE_TESTS) and all(s.endswith(".sh") for s in DRY_RUNS)


def test_nothing_loose_in_benchmarks():
    loose = sorted(p.name for p in BENCH.iterdir() if p.is_file() and p.name != "README.md")
    assert not loose, ("put these into benchmarks/recipes, tools or probes (and list them in benchmarks/README.md): "
                       f"{loose}")


def test_the_table_names_real_tests():
    for script, tests in SMOKE_TESTS.items():
        assert tests, f"{script}: no smoke test"
        for test in tests:
            module, name = test.split("::")
            mod = importlib.import_module(f"{__package__}.{module.removesuffix('.py')}")
            assert callable(getattr(mod, name, None)), f"{script}: {test} does not exist"


def test_the_readme_lists_every_script():
    readme = (BENCH / "README.md").read_text()
    for script in benchmark_scripts():
        folder, name = script.split("/", 1)
        section = readme.split(f"## {folder}/", 1)[1].split("\n## ", 1)[0]
        assert f"`{name}`" in section, f"benchmarks/README.md: no line for {script} under {folder}/"


def _documented_usages(script: str) -> list[list[str]]:
    """``python benchmarks/....py ARGS`` lines in a script's comments and docstrings (continuations joined).
    A shell script's own command lines are left to its dry run (test_shell_scripts.py)."""
    text = (BENCH / script).read_text().replace("\\\\\n", " ").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        if script.endswith(".sh") and not line.lstrip().startswith("#"):
            continue
        m = re.search(r"(?<![\w/.-])python3?\s+(benchmarks/\S+\.py)(.*)$", line)
        if not m:
            continue
        args = shlex.split(m.group(2), comments=True)
        args = args[:next((i for i, a in enumerate(args) if a in (">", "|", "&&", ";")), len(args))]
        out.append(["python", m.group(1)] + args)
    return out


@pytest.mark.parametrize("script", benchmark_scripts())
def test_documented_usage_lines_parse(script):
    for argv in _documented_usages(script):
        assert (REPO / argv[1]).is_file(), f"{script} names {argv[1]}, which does not exist"
        parse_command(argv, f"{script}, usage line")
