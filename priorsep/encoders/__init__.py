"""Amortised posteriors q(s_k | m): encoder networks, their checkpoints, their posterior over a
mixture of any length (means and draws), and the ELBOs they are trained with against frozen priors."""
from .io import ENCODER_STEM, load_encoder, own_encoder, resolve_encoder, save_encoder
from .networks import ENCODER_CLASSES, Encoder, MaskEncoder, with_bin_scale
from .posterior import EncoderDraws, encoder_draws, encoder_means, encoder_posterior

__all__ = ["ENCODER_CLASSES", "ENCODER_STEM", "Encoder", "EncoderDraws", "MaskEncoder", "encoder_draws",
           "encoder_means", "encoder_posterior", "load_encoder", "own_encoder", "resolve_encoder", "save_encoder",
           "with_bin_scale"]
