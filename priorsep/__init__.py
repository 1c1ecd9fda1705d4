"""priorsep: audio source separation with independently trained deep generative priors."""
from .version import __version__
from .api import langevin_separate, load_separator, variational_separate
from .priors.io import PriorSet, load_prior, load_priors, save_prior
from .separator import Separator

__all__ = ["__version__", "PriorSet", "Separator", "load_prior", "load_priors", "save_prior", "load_separator",
           "langevin_separate", "variational_separate"]
