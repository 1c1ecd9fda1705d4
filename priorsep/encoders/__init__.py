"""Amortised posteriors q(s_k | m): encoder networks, their checkpoints, their posterior over a
mixture of any length, and the ELBO they are trained with against frozen priors."""
from .io import ENCODER_STEM, load_encoder, own_encoder, resolve_encoder, save_encoder
from .networks import ENCODER_CLASSES, Encoder, MaskEncoder
from .posterior import encoder_means, encoder_posterior

__all__ = ["ENCODER_CLASSES", "ENCODER_STEM", "Encoder", "MaskEncoder", "encoder_means", "encoder_posterior",
           "load_encoder", "own_encoder", "resolve_encoder", "save_encoder"]
