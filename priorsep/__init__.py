"""priorsep: audio source separation with independently trained deep generative priors."""
__version__ = "0.1.0"

from .priors.io import PriorSet, load_prior, load_priors, save_prior  # noqa: E402
from .separation.langevin import langevin_separate  # noqa: E402
from .separation.variational import variational_separate  # noqa: E402

__all__ = ["__version__", "PriorSet", "load_prior", "load_priors", "save_prior", "langevin_separate", "variational_separate"]
