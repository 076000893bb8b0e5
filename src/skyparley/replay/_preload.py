"""Imported once by the replay's fork server before it forks the workers.

Importing the detection engine and running it once on two aircraft loads numba and the
kernels from numba's cache (about a second). Done here, every worker forked afterwards starts
with them loaded, instead of each loading them again.
"""

from __future__ import annotations

import contextlib

from skyparley.replay._run import _warm

# Should it fail, the fork server must live on: each worker then loads the kernels itself,
# and meets the same error in its first task.
with contextlib.suppress(Exception):
    _warm()
