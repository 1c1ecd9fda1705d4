"""The shell scripts under benchmarks/: real but cheap checks (they run long trainings).

``bash -n`` for syntax; then a dry run (``scripts.dry_run``): bash runs the script with its own
defaults (or the environments in ``scripts.DRY_RUNS``), with ``priorsep`` and ``python`` stubbed to
record their arguments, so that continuations, variables, arrays, loops and branches are bash's
own. Every recorded ``priorsep ...``, ``python -m priorsep ...`` and ``python benchmarks/....py ...``
is parsed by its argparse parser without running. Less than that: ``python -`` here-documents are only
compiled; the scripts' extra arguments (``"$@"``) are left empty.
"""
import re
import shutil
import subprocess

import pytest

from .scripts import BENCH, DRY_RUNS, dry_run, parse_command

SHELL_SCRIPTS = sorted(str(p.relative_to(BENCH)) for d in ("recipes", "tools", "probes")
                       for p in (BENCH / d).glob("*.sh"))
RUNS = [(script, env) for script, envs in sorted(DRY_RUNS.items()) for env in envs]


def _commands_in_text(text: str) -> tuple[set[str], set[str]]:
    """The priorsep subcommands and benchmark scripts that the script's code (not its comments) calls."""
    text = re.sub(r"<<-?'?(\w+)'?([^\n]*)\n.*?\n\1\n", r"\2\n", text, flags=re.S)  # drop here-document bodies
    code = "\n".join(line for line in text.replace("\\\n", " ").splitlines() if not line.lstrip().startswith("#"))
    subcommands = set(re.findall(r"(?<![\w/.-])priorsep\s+([a-z][a-z-]*)", code))
    subcommands |= set(re.findall(r"(?<![\w/.-])python3?\s+-m\s+priorsep\s+([a-z][a-z-]*)", code))
    scripts = set(re.findall(r"(?<![\w/.-])python3?\s+(benchmarks/\S+\.py)", code))
    return subcommands, scripts


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_script_syntax(script):
    proc = subprocess.run(["bash", "-n", str(BENCH / script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_python_here_documents_compile(script):
    text = (BENCH / script).read_text()
    for m in re.finditer(r"([^\n]*)<<-?'?(\w+)'?[^\n]*\n(.*?)\n\2\n", text, flags=re.S):
        if re.search(r"\bpython3?\s+-(\s|$)", m.group(1)):
            compile(m.group(3), f"{script} (here-document {m.group(2)})", "exec")


@pytest.mark.parametrize("script,env", RUNS, ids=[f"{s}-{i}" for s, envs in sorted(DRY_RUNS.items())
                                                  for i in range(len(envs))])
def test_shell_script_commands_parse(script, env, tmp_path):
    if "/usr/bin/time" in (BENCH / script).read_text() and not shutil.which("/usr/bin/time"):
        pytest.skip("the script runs /usr/bin/time, not installed here")
    calls = dry_run(script, tmp_path, env)
    parsed_subcommands, parsed_scripts = set(), set()
    for argv in calls:
        if argv[0].startswith("python") and argv[1:2] == ["-"]:
            continue  # a here-document: test_python_here_documents_compile
        prog, args, _ = parse_command(argv, script)
        if prog == "priorsep":
            parsed_subcommands.add(args[0])
        else:
            parsed_scripts.add(prog)
    # every command the script's text names was reached and parsed (no branch left unchecked)
    subcommands, scripts = _commands_in_text((BENCH / script).read_text())
    unreached = subcommands - parsed_subcommands
    assert not unreached, f"{script}: not reached in the dry run: {unreached}"
    assert scripts <= parsed_scripts, f"{script}: not reached in the dry run: {scripts - parsed_scripts}"
    assert calls, f"{script} called nothing"
