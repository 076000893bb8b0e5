"""skyparley: the deconfliction service with receipts.

The pure layers are importable from here; the CLI lives in :mod:`skyparley.cli`.
"""

from skyparley.errors import (
    InputError,
    LedgerError,
    LedgerInputError,
    SkyparleyError,
    SplitViewError,
    TrackFileError,
    VerificationError,
)

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "LedgerError",
    "LedgerInputError",
    "SkyparleyError",
    "SplitViewError",
    "TrackFileError",
    "VerificationError",
    "__version__",
]
