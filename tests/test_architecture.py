"""The package's shape: no import cycles (between modules, or between the folders that show the
architecture), the core never imports the CLI or the experimental wing, modules stay readable, the
tests mirror the package."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "priorsep"
MAX_LINES = 420  # "about 400": a module longer than this does more than one thing


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imports(name: str) -> set[str]:
    """Every priorsep module ``name`` imports, at the top or inside a function (a lazy import is
    still a dependency). ``from pkg import x`` counts as an import of ``pkg.x`` where that is a module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            subs = {f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in MODULES}
            found |= subs or {mod}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def folder(name: str) -> str:
    """The architectural unit: ``priorsep.<subpackage>`` or ``priorsep.<top-level module>``."""
    return ".".join(name.split(".")[:2])


def test_the_graph_sees_lazy_and_relative_imports():
    assert "priorsep.separation.config" in GRAPH["priorsep.separation.langevin"]
    assert "priorsep.dsp.stft" in GRAPH["priorsep.dsp.masks"]  # from .stft import istft
    assert "priorsep.api" in GRAPH["priorsep.evaluation.toy_benchmark"]  # imported inside a function
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_no_import_cycles_between_modules():
    assert cycles(GRAPH) == []


def test_no_import_cycles_between_folders():
    facades = {"priorsep", "priorsep.__main__"}  # the public facade imports everything; nothing imports it
    assert not any("priorsep" in deps for name, deps in GRAPH.items() if name not in facades)
    folders: dict[str, set[str]] = {}
    for name, deps in GRAPH.items():
        if name not in facades:
            folders.setdefault(folder(name), set()).update(folder(d) for d in deps if folder(d) != folder(name))
    assert cycles(folders) == []


@pytest.mark.parametrize("wing", ["priorsep.cli", "priorsep.experimental"])
def test_the_core_never_imports_the_cli_or_the_experimental_wing(wing):
    core = [n for n in GRAPH if folder(n) not in (wing, "priorsep.cli") and n not in ("priorsep.__main__",)]
    offenders = {n: sorted(d for d in GRAPH[n] if folder(d) == wing) for n in core}
    assert {n: d for n, d in offenders.items() if d} == {}


def test_modules_stay_readable():
    long = {name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


#: test folders that are not packages of priorsep: the scripts under benchmarks/, the bundled models' regressions
TEST_FOLDERS_BESIDE_THE_PACKAGE = {"benchmarks", "bundled"}


def test_the_tests_mirror_the_package():
    """tests/<folder>/ tests priorsep/<folder>/; top-level tests cover top-level modules and the
    whole library (architecture, style, bad input, properties, determinism, torchrun)."""
    tests = Path(__file__).resolve().parent
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders - packages - TEST_FOLDERS_BESIDE_THE_PACKAGE == set()
    assert all((tests / f / "__init__.py").exists() for f in folders)  # unique module names per folder
