"""One protocol test over every baseline class (zuko style): a mix at the wrong rate, a mix of the
wrong shape, and a checkpoint of one class whose config names another are documented errors."""
import json

import numpy as np
import pytest

from priorsep.baselines.io import load_baseline, save_baseline
from priorsep.errors import CheckpointError, InvalidAudioError, SampleRateError
from priorsep.separation.files import separate_array

from . import (test_factorgan, test_metatasnet, test_multitask, test_nmf, test_peer_demucs, test_spectral_vae,
               test_waveunet)

TINY = {"waveunet": test_waveunet.tiny, "demucs": test_peer_demucs.tiny, "metatasnet": test_metatasnet.tiny,
        "multitask": test_multitask.tiny, "factorgan": test_factorgan.tiny, "nmf": test_nmf.tiny,
        "spectral-vae": test_spectral_vae.tiny}


def test_every_baseline_kind_is_covered():
    from priorsep.baselines.io import baseline_kinds

    assert set(TINY) == set(baseline_kinds())


@pytest.mark.parametrize("kind", list(TINY))
def test_wrong_rate_and_shape_are_documented_errors(kind):
    model = TINY[kind]().eval()
    mix = np.sin(np.arange(3000) / 7).astype(np.float32)
    with pytest.raises(SampleRateError, match="16000 Hz but the model expects 14700 Hz"):
        separate_array(model, mix, 16000)
    est = separate_array(model, np.stack([mix, 0.5 * mix]), 14700)  # one-channel models: each channel on its own
    assert all(v.shape == (2, 3000) for v in est.values())
    for bad in (mix[:, None].repeat(2, 1), mix[None, None], np.full(3000, np.nan, np.float32)):
        with pytest.raises(InvalidAudioError):
            model.separate(bad)


@pytest.mark.parametrize("kind", list(TINY))
def test_a_checkpoint_of_one_class_loaded_as_another_is_a_checkpoint_error(kind, tmp_path):
    other = "metatasnet" if kind != "metatasnet" else "waveunet"
    save_baseline(TINY[kind](), tmp_path / "m")
    config = json.loads((tmp_path / "m.json").read_text())
    donor = TINY[other]()
    save_baseline(donor, tmp_path / "d")
    # the weights of `kind` under the config of `other`
    (tmp_path / "m.json").write_text((tmp_path / "d.json").read_text())
    with pytest.raises(CheckpointError, match="do not fit their config .* from different models"):
        load_baseline(tmp_path / "m")
    assert config["kind"] == kind
