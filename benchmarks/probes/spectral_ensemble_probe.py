"""Probe: do several training draws of spectral priors separate better together? Each draw (a spectral separator
checkpoint: the spectral VAEs, the NMF models) fits the mix on its own; their modelled magnitudes per source are
averaged (arithmetic mean, or geometric with ``--geometric``), then split the mix's STFT by one set of ratio masks,
as each alone does (``SpectralModelSeparator``). Rows: each draw alone, then the ensemble; scored by the band
benchmark's table (``bench_band``, the same excerpts as ``priorsep bench band``).

    python benchmarks/probes/spectral_ensemble_probe.py spectral-vae-band \\
        priors-work/spectral-vae-seed1/spectral-vae-band --root priors-work/band-data-multi/gmbank --n 48 --no-bss
"""
from __future__ import annotations

import argparse

import torch

from priorsep.baselines import load
from priorsep.baselines.base import SpectralModelSeparator
from priorsep.evaluation.band_benchmark import bench_band
from priorsep.evaluation.benchmark import format_table, save_json


class EnsembleParts(SpectralModelSeparator):
    """The mean of ``models``' modelled magnitudes (each ``(N, K, F, frames)``) as one spectral separator; every
    model must share the sources, rate, weights and STFT of the first."""

    def __init__(self, models: list[SpectralModelSeparator], geometric: bool = False):
        first = models[0].config
        for m in models[1:]:
            if any(m.config[k] != first[k] for k in ("sources", "sample_rate", "mix_weights", "n_fft", "hop")):
                raise SystemExit("every model of an ensemble must share sources, rate, weights, n_fft and hop")
        super().__init__({**first, "label": f"ensemble of {len(models)}" + (", geometric" if geometric else "")})
        self.models, self.geometric = torch.nn.ModuleList(models), geometric

    @property
    def label(self) -> str:
        return self.config["label"]

    def parts(self, spec: torch.Tensor) -> torch.Tensor:
        parts = torch.stack([m.parts(spec) for m in self.models])
        return parts.clamp_min(1e-12).log().mean(0).exp() if self.geometric else parts.mean(0)


def main(args: argparse.Namespace) -> dict:
    torch.set_num_threads(args.threads)
    models = [load(spec) for spec in args.models]
    for i, m in enumerate(models):
        m.config["label"] = f"{m.label} #{i}"  # tell the draws apart in the table
    rows = ([] if args.ensemble_only else models) + [EnsembleParts(models, args.geometric)]
    results = bench_band(args.root, rows, n=args.n, seconds=args.seconds, seed=args.seed, bss=not args.no_bss,
                         quiet=args.quiet)
    print(format_table(results))
    if args.json:
        save_json(results, args.json)
    return results


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="spectral separator checkpoints (bundled names or stems)")
    p.add_argument("--root", required=True, help="a folder from priorsep data band (its test split is scored)")
    p.add_argument("--geometric", action="store_true", help="average the magnitudes' logs instead")
    p.add_argument("--ensemble-only", action="store_true", help="score the ensemble alone, not each draw")
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--seed", type=int, default=0, help="excerpt seed")
    p.add_argument("--no-bss", action="store_true")
    p.add_argument("--json")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true")
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
