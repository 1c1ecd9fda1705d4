"""The sampler configuration: named parts, the one flat-key mapping, defaults, no-effect errors."""
import json
from pathlib import Path

import pytest

from priorsep.cli import build_parser
from priorsep.errors import ConfigError
from priorsep.separation.config import (EXPERIMENTAL_KEYS, FLAT_KEYS, PARTS, SamplerConfig, flat_defaults,
                                        make_config)

BUNDLED = Path(__file__).resolve().parents[2] / "priorsep" / "priors" / "bundled"


def test_every_field_of_every_part_has_exactly_one_flat_key():
    mapped = sorted(FLAT_KEYS.values(), key=str)
    assert len(set(mapped)) == len(mapped)
    expected = {(p, f) for p, cls in PARTS.items() for f in cls.__dataclass_fields__}
    expected |= {(None, f) for f in ("space", "init", "score_precision")}
    assert set(mapped) == expected


def test_flat_settings_round_trip_through_the_parts():
    config = make_config({"polish_rounds": 2, "polish_swaps": 1, "mask_lr": 0.05, "chunk_batch": 3})
    assert (config.polish.rounds, config.polish.swaps, config.mask.lr, config.chunking.batch) == (2, 1, 0.05, 3)
    assert make_config({}, base=config.settings()) == config
    assert SamplerConfig().updated(**config.settings()) == config


def test_defaults_are_the_search_from_the_mixture_and_the_toy_set_starts_from_its_encoder():
    """A prior set without settings of its own runs the toy flows' search from the mixture (their
    default until 2026-12-06: it needs no encoder); the toy set now refines its encoder's estimate."""
    defaults = flat_defaults()
    search = dict(space="mask", init="mixture", sigma_max=0.1, sigma_min=0.01, n_levels=20, steps_per_level=12,
                  mask_lr=0.1, mask_assign=False)
    assert {k: defaults[k] for k in search} == search
    toy = json.loads((BUNDLED / "toy" / "priorset.json").read_text())["langevin"]
    assert toy == {**search, "init": "variational", "n_levels": 5, "steps_per_level": 6, "mask_lr": 0.3,
                   "mask_n_fft": 8192, "mask_hop": 2048, "mask_assign": True}


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLED.iterdir() if (p / "priorset.json").is_file()))
def test_bundled_priorset_files_keep_loading(name):
    stored = json.loads((BUNDLED / name / "priorset.json").read_text())["langevin"]
    config = make_config({}, base=stored)
    assert {k: v for k, v in config.settings().items() if k in stored} == stored


@pytest.mark.parametrize("settings,idle", [
    ({"init_alignments": 2}, "init_alignments"),  # only an encoder's start is aligned
    ({"step_size": 0.3}, "step_size"),  # a mask search without refinement never takes a Langevin step
    ({"denoise": False}, "denoise"),
    ({"polish_swaps": 2}, "polish_swaps"),  # no polishing rounds
    ({"space": "signal", "mask_lr": 0.2}, "mask_lr"),
    ({"space": "signal", "mask_assign": True}, "mask_assign"),
    ({"select_below": 0.1}, "select_below"),  # one chain
    ({"space": "signal", "gamma_scale": 0.3}, "gamma_scale"),  # the exact constraint has no gamma
])
def test_a_setting_without_effect_is_an_error(settings, idle):
    with pytest.raises(ConfigError, match=idle):
        make_config(settings)


def test_settings_with_effect_are_accepted_and_a_sets_own_idle_keys_are_not_the_callers():
    assert make_config({"polish_rounds": 1, "step_size": 0.3}).signal.step_size == 0.3  # the refinement's steps
    gaussian = make_config({"space": "signal", "constraint": "gaussian", "gamma_scale": 0.3})
    assert gaussian.experimental.gamma_scale == 0.3
    config = make_config({"space": "signal"}, base={"mask_lr": 0.2})  # the set's mask settings, a signal run
    assert config.space == "signal"


def test_init_alignments_needs_the_encoders_start_and_at_least_one():
    assert make_config({"init": "variational", "init_alignments": 2}).experimental.init_alignments == 2
    with pytest.raises(ConfigError, match="init_alignments"):
        make_config({"init": "variational", "init_alignments": 0})


def test_chunk_overlap_is_a_share_of_a_chunk():
    assert make_config({"chunk_overlap": 0.25}).chunking.overlap == 0.25
    for bad in (1.0, -0.1):
        with pytest.raises(ConfigError, match="chunk_overlap"):
            make_config({"chunk_overlap": bad})


def test_unknown_and_mistyped_settings_are_errors():
    with pytest.raises(ConfigError, match="unknown"):
        make_config({"sigma_maxx": 1.0})
    with pytest.raises(ConfigError, match="should be a int"):
        make_config({"n_levels": 2.5})


def test_experimental_settings_are_accepted_but_not_in_the_help():
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices["separate"]
    text = sub.format_help()
    assert "--sigma-max" in text and "--polish-rounds" in text
    assert not any("--" + k.replace("_", "-") + " " in text for k in EXPERIMENTAL_KEYS)
    args = parser.parse_args(["separate", "x.wav", "--out", "o", "--n-chains", "2"])
    assert args.n_chains == 2
