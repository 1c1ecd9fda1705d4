"""The experimental wing: options the project built, measured, and found not to help separation.
They stay usable (their checkpoints load, the probes under ``benchmarks/probes/`` run them) but
the core never imports this package (``tests/test_architecture.py``).

What lives here, and what was measured (toy sources unless noted):

* **Denoiser priors** (:mod:`.denoiser`, kind ``"denoiser"``): an EDM-preconditioned denoiser
  D(x, sigma) whose Tweedie score the sampler uses. Denoising works (STFT network: 5.5-19.3 dB
  Tweedie gain after 600 steps, the flows 2-6 dB) but separation does not: the best median SI-SDRi on toy
  mixes was -0.2 dB (first round) and -2.03 dB (global context plus off-manifold training), where
  the bundled flows' mask search reaches 10.88 dB. Each denoiser returns most of the mixture, or
  commits to another source's pitch. ``benchmarks/results/denoiser/README.md``,
  ``langevin_sweep_wide.jsonl``, ``langevin_sweep_global_context.jsonl`` beside it.
* **The time-domain U-Net** (:mod:`.unet`): the denoiser's ``network="unet"``. Its Tweedie gain was
  4.3 / 5.2 / 4.7 / 2.6 dB at sigma 1 / 0.5 / 0.2 / 0.05 after 500 steps, as poor as the flows,
  against 14.6 / 13.9 / 12.3 / 10.1 dB for the STFT mask network after 100 steps: average pooling
  removes the partials of pitched sources (``benchmarks/results/denoiser/README.md``, "Denoising").
* **U-Net flows** (:mod:`.unet_flow`, kind ``"unet-flow"``): flow couplings conditioned by that
  U-Net (formerly the flow's ``unet_levels`` option). No result was ever measured with them; they
  moved with the U-Net the denoiser measured as poor.
* **DCT-basis flows** (:mod:`.dct_flow`, kind ``"dct-flow"``, formerly the flow's ``basis="dct"``):
  spectral flows over the DCT of each squeezed frame, trained on the toy sources only and never
  bundled (``benchmarks/results/spectral/README.md``).
* **FactorGAN's discriminator options** (:mod:`.factorgan`): level-free and level-row features
  (formerly the config keys ``disc_level_free`` / ``disc_level`` of the core discriminators) and the
  R1 penalty (formerly ``train_factorgan(r1=...)``). Adversarial toy training collapsed with each
  of them; the bundled ``factorgan-toy`` uses none (``benchmarks/results/baselines/README.md``).
* **Off-manifold training** (:mod:`.interference`, ``train_prior(..., off_manifold=P)`` through
  the denoiser's ``off_manifold_offset`` hook): the local network did not learn to extract its
  source from tones at sigma >= 0.5 (-0.7 -> -2.3 dB SI-SDR at sigma 1), and separation stayed at
  -12.97 dB median SI-SDRi (-1.38 dB with sigma_max 0.3) (``langevin_sweep_offmanifold.jsonl``).
  Fine-tuning the global-context denoisers off the manifold moved extraction by -2 to +3 dB, and
  separation stayed negative (-2.03 to -21.37 dB, ``langevin_sweep_global_context.jsonl``). Both
  under ``benchmarks/results/denoiser/`` (README.md, "Second round").

Importing this package (or any module of it) registers its families with
:mod:`priorsep.registry`. Loading a checkpoint of one of them needs no import: the checkpoint
records its class's module (checkpoints written before that: :data:`priorsep.registry.LEGACY`),
which the loader imports on demand.

"""
from . import dct_flow, denoiser, interference, unet, unet_flow  # noqa: F401  (registers the families)
from .dct_flow import BlockDCT, DCTFlowPrior
from .factorgan import LevelFeatureDiscriminators, R1Penalty
from .denoiser import DenoiserPrior, STFTMaskNet
from .interference import harmonic_tones, off_manifold_offset
from .unet import UNetConditioner
from .unet_flow import UNetFlowPrior

__all__ = ["BlockDCT", "DCTFlowPrior", "DenoiserPrior", "LevelFeatureDiscriminators", "R1Penalty", "STFTMaskNet",
           "UNetConditioner", "UNetFlowPrior", "harmonic_tones", "off_manifold_offset"]
