"""``python -m priorsep.cli``: the same as ``python -m priorsep``."""
import sys

from . import main

sys.exit(main())
