"""The errors priorsep raises for input it cannot use. Every public function and CLI command raises
one of these (all :class:`PriorsepError`) with a message naming the problem and the fix; the CLI
prints it without a traceback and exits with status 2.

Each also derives from the built-in exception that describes it (``ValueError``,
``FileNotFoundError``, ``LookupError``), so ``except ValueError`` keeps working.

==========================  ==========================================================================
error                       raised for
==========================  ==========================================================================
InvalidAudioError           NaN/inf, empty, all-zero, wrong rank, non-numeric dtype, too many channels
AudioFileError              an audio file that is missing or cannot be decoded
SampleRateError             a mix at another rate than the model; priors of one set at different rates
CheckpointError             a missing, truncated or corrupt checkpoint, weights that do not fit their
                            config, a checkpoint from an incompatible priorsep version
UnknownNameError            an unknown prior set, baseline, source, kind or mixing convention
OutputConflictError         an output that would overwrite an input (or a fine-tuned checkpoint's source)
ConfigError                 invalid settings: sampler parameters, batch sizes, model hyper-parameters
DataError                   training data that cannot be used: empty folders, mismatched rates, too short
NumericalError              a diverging sampler or training run (non-finite values): lower the step size
MissingExtraError           a model from an optional extra (``pip install 'priorsep[peers]'``) that is not installed
==========================  ==========================================================================
"""
from __future__ import annotations


class PriorsepError(Exception):
    """Base class of every documented priorsep error."""


class InvalidAudioError(PriorsepError, ValueError):
    pass


class AudioFileError(PriorsepError, ValueError):
    pass


class AudioFileNotFoundError(AudioFileError, FileNotFoundError):
    pass


class SampleRateError(PriorsepError, ValueError):
    pass


class CheckpointError(PriorsepError, ValueError):
    pass


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    pass


class UnknownNameError(PriorsepError, ValueError, LookupError):
    pass


class UnknownNameNotFoundError(UnknownNameError, FileNotFoundError):
    """An unknown name that could also have been a path (prior set folder, checkpoint stem)."""


class OutputConflictError(PriorsepError, ValueError):
    pass


class ConfigError(PriorsepError, ValueError):
    pass


class DataError(PriorsepError, ValueError):
    pass


class DataNotFoundError(DataError, FileNotFoundError):
    pass


class NumericalError(PriorsepError, FloatingPointError):
    pass


def brief(error: BaseException, limit: int = 200) -> str:
    """The gist of a library's exception for one-line messages: its last non-empty line (torch puts
    the specific problem last), shortened to ``limit`` characters."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[-1] if lines else type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


__all__ = ["brief",
    "PriorsepError", "InvalidAudioError", "AudioFileError", "AudioFileNotFoundError", "SampleRateError",
    "CheckpointError", "CheckpointNotFoundError", "UnknownNameError", "UnknownNameNotFoundError",
    "OutputConflictError", "ConfigError", "DataError", "DataNotFoundError", "NumericalError",
]


class MissingExtraError(PriorsepError, ImportError):
    """A model that needs an optional extra (e.g. ``demucs`` of ``priorsep[peers]``) that is not installed."""
