"""``python -m skyparley`` runs the command line."""

import sys

from skyparley.cli import main

sys.exit(main(quick_exit=True))
