"""``python -m priorsep`` (and ``torchrun -m priorsep``): the command-line interface."""
import sys

from .cli import main

sys.exit(main())
