"""The table of benchmark scripts and how each is checked, plus the helpers the checks share.

Every ``.py`` and ``.sh`` under ``benchmarks/{recipes,tools,probes}/`` must be listed here
(``test_layout.py`` fails otherwise):

* a Python script in ``SMOKE_TESTS``, with the tests that run its ``main(args)`` on tiny arguments
  (pyro-examples style; ``test_tools.py``, ``test_probes.py``);
* a shell script in ``DRY_RUNS``, with the environments it is dry-run in (``test_shell_scripts.py``):
  bash runs the script itself, with ``priorsep`` and ``python`` on ``PATH`` replaced by stubs that
  only record their arguments, and every recorded command line is then parsed by the argparse
  parser of the command it calls. Nothing is trained.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"
SCRIPT_DIRS = ("recipes", "tools", "probes")

# script (relative to benchmarks/) -> "test_file.py::test_name" of the tests that smoke-run it
SMOKE_TESTS = {
    "tools/compare_tables.py": ["test_tools.py::test_compare_tables_script"],
    "tools/paired_rows.py": ["test_tools.py::test_paired_rows_script"],
    "tools/failure_detection.py": ["test_tools.py::test_failure_detection_script"],
    "tools/draws_toy.py": ["test_tools.py::test_draws_toy_script"],
    "tools/check_report.py": ["test_tools.py::test_check_report_script"],
    "tools/langevin_sweep.py": ["test_tools.py::test_langevin_sweep_script"],
    "tools/variational_toy.py": ["test_tools.py::test_variational_toy_script"],
    "tools/score_song.py": ["test_tools.py::test_score_song_script"],
    "tools/song_curve.py": ["test_tools.py::test_song_curve_script"],
    "tools/write_teacher_labels.py": ["test_tools.py::test_write_teacher_labels_script"],
    "probes/band_start_probe.py": ["test_probes.py::test_band_start_probe_script"],
    "probes/band_fit_refine_probe.py": ["test_probes.py::test_band_fit_refine_probe_script"],
    "probes/factorgan_discriminator_check.py": ["test_probes.py::test_factorgan_discriminator_check_script"],
    "probes/factorgan_generator_probe.py": ["test_probes.py::test_factorgan_generator_probe_script"],
    "probes/factorgan_training_probe.py": [
        "test_probes.py::test_factorgan_training_probe_script",
        "test_probes.py::test_factorgan_training_probe_supervised_stage_validation_and_init",
        "test_probes.py::test_factorgan_training_probe_starts_from_a_mask_encoder",
        "test_probes.py::test_factorgan_scripts_parse_config_overrides",
    ],
    "probes/leakage_probe.py": ["test_probes.py::test_leakage_probe_script"],
    "probes/mode_ranking_probe.py": ["test_probes.py::test_mode_ranking_probe_script"],
    "probes/nmf_settings_probe.py": ["test_probes.py::test_nmf_settings_probe_script"],
    "probes/nmf_cross_fit.py": ["test_probes.py::test_nmf_cross_fit_script"],
    "probes/nmf_context_probe.py": ["test_probes.py::test_nmf_context_probe_script"],
    "probes/band_val_si_sdri.py": ["test_probes.py::test_band_val_si_sdri_script"],
    "probes/spectral_vae_probe.py": ["test_probes.py::test_spectral_vae_probe_script"],
    "probes/spectral_vae_context_probe.py": ["test_probes.py::test_spectral_vae_context_probe_script"],
    "probes/spectral_ensemble_probe.py": ["test_probes.py::test_spectral_ensemble_probe_script"],
    "probes/restart_probe.py": ["test_probes.py::test_restart_probe_script"],
    "probes/profile_separation.py": ["test_probes.py::test_profile_separation_script"],
    "probes/grouped_scores.py": ["test_probes.py::test_grouped_scores_script"],
    "probes/period_discrimination.py": ["test_probes.py::test_period_discrimination_script"],
    "probes/prior_samples.py": ["test_probes.py::test_prior_samples_script"],
    "probes/residual_denoising_probe.py": [
        "test_probes.py::test_residual_denoising_probe_script",
        "test_probes.py::test_residual_denoising_probe_meets_the_constraint",
    ],
    "probes/silence_margin_finetune.py": ["test_probes.py::test_silence_margin_finetune_script"],
    "probes/tweedie_gain.py": ["test_probes.py::test_tweedie_gain_script"],
}

# script (relative to benchmarks/) -> the environments it is dry-run in: each dict is added to the
# defaults of dry_run() (OUT, WORK, DATA, TEACHER in a temporary folder); {} runs the script's own defaults
DRY_RUNS = {
    "recipes/make_band_data.sh": [{}],
    "recipes/make_band_data_multi.sh": [{}],
    "recipes/train_band_priors.sh": [{}],
    "recipes/train_band_waveunet.sh": [{}],
    "recipes/train_band_nmf.sh": [{}],
    "recipes/train_band_nmf_exemplars.sh": [{}],
    "recipes/train_band_spectral_vae.sh": [{}],
    "recipes/train_band_demucs.sh": [{}],
    "recipes/train_band_metatasnet.sh": [{}, {"INDEPENDENT": "1"}],
    "recipes/train_band_multitask.sh": [{}],
    "recipes/train_band_factorgan.sh": [{}, {"MODE": "supervised", "PAIRED_TRACKS": "2"}],
    "recipes/train_toy_encoder.sh": [{}],
    "recipes/train_toy_factorgan.sh": [{}],
    "recipes/train_toy_priors.sh": [{}],
    "recipes/train_toy_teacher_encoder.sh": [{}],
    "recipes/train_toy_wavenet_priors.sh": [{}],
    "recipes/train_toy_waveunet.sh": [{}],
    "tools/long_stereo.sh": [{"METHODS": "waveunet variational langevin"}],  # every branch of its case
    # the INIT branch as benchmarks/results/denoiser/README.md ran it (a second stage from toy-dn-gc)
    "probes/train_toy_denoiser_priors.sh": [{}, {"INIT": "priors-work/toy-dn-gc", "GLOBAL_CONTEXT": "0"}],
    "probes/train_toy_spectral_priors.sh": [{}],
    "probes/train_toy_mask_encoder.sh": [{}, {"PRIORS": "toy-wavenet", "SIGMA_START": "1.0", "INIT_SCALE": "0.01"}],
}


def benchmark_scripts() -> list[str]:
    """Every .py and .sh under benchmarks/{recipes,tools,probes}/, relative to benchmarks/."""
    return sorted(str(p.relative_to(BENCH)) for d in SCRIPT_DIRS for p in (BENCH / d).rglob("*")
                  if p.suffix in (".py", ".sh") and "__pycache__" not in p.parts)


def add_script_dirs() -> None:
    """Scripts import as top-level modules (``import tweedie_gain``), as when run from their folder."""
    for d in ("tools", "probes"):
        if str(BENCH / d) not in sys.path:
            sys.path.insert(0, str(BENCH / d))


def cli_parser():
    """The ``priorsep`` command's argparse parser (the one place that knows where the CLI lives)."""
    from priorsep.cli import build_parser

    return build_parser()


def script_parser(path: str):
    """The argparse parser of a benchmark script, ``path`` as a command line names it (``benchmarks/tools/x.py``)."""
    script = (REPO / path).resolve()
    assert script.is_file() and BENCH in script.parents, f"{path}: no such benchmark script"
    add_script_dirs()
    if str(script.parent) not in sys.path:
        sys.path.insert(0, str(script.parent))
    return importlib.import_module(script.stem).build_parser()


def parse_command(argv: list[str], where: str):
    """Parse one command line (``priorsep ...``, ``python -m priorsep ...``, ``python benchmarks/....py ...``)
    with the parser of what it calls, without running it. Returns the program (``priorsep`` or the script's
    path), the arguments its parser got and the Namespace."""
    prog, args = Path(argv[0]).name, list(argv[1:])
    if prog.startswith("python") and args[:2] == ["-m", "priorsep"]:
        prog, args = "priorsep", args[2:]
    if prog == "priorsep":
        parser = cli_parser()
    elif prog.startswith("python") and args and args[0].endswith(".py"):
        prog, parser, args = args[0], script_parser(args[0]), args[1:]
    else:
        raise AssertionError(f"{where}: not a priorsep or benchmark-script command: {shlex.join(argv)}")
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ns = parser.parse_args(args)
    except SystemExit:
        pytest.fail(f"{where}: {prog} rejects its arguments: {shlex.join(argv)}\n{err.getvalue()}")
    return prog, args, ns


_STUB = '#!/bin/sh\n{ printf "%s\\037" "$(basename "$0")" "$@"; printf "\\036"; } >> "$DRY_RUN_LOG"\n'


def dry_run(script: str, tmp: Path, env: dict[str, str]) -> list[list[str]]:
    """Run ``benchmarks/<script>`` under bash with ``priorsep`` and ``python`` stubbed; the argv of every call.

    The working directory is a scratch copy of the repository root (links to ``priorsep/`` and
    ``benchmarks/``), so that the scripts' own file work (mkdir, cp, ln) lands in ``tmp``."""
    root, bin_, work = tmp / "root", tmp / "bin", tmp / "work"
    for d in (root, bin_, work):
        d.mkdir()
    for name in ("priorsep", "benchmarks"):
        (root / name).symlink_to(REPO / name)
    for name in ("priorsep", "python"):
        (bin_ / name).write_text(_STUB)
        (bin_ / name).chmod(0o755)
    data = work / "band-data"
    (data / "fluidr3" / "train" / "track000").mkdir(parents=True)  # one rendered track for the solo-stem links
    log = tmp / "calls"
    full_env = {"PATH": f"{bin_}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(tmp),
                "LC_ALL": "C", "DRY_RUN_LOG": str(log), "OUT": str(work / "out"), "WORK": str(work / "work"),
                "DATA": str(data), "TEACHER": str(work / "teacher"), **env}
    proc = subprocess.run(["bash", str(root / "benchmarks" / script)], cwd=root, env=full_env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{script} failed its dry run ({env}):\n{proc.stdout}\n{proc.stderr}"
    records = log.read_text().split("\x1e")[:-1] if log.exists() else []
    return [r.split("\x1f")[:-1] for r in records]
