"""Loaded at start-up by every Python process with this folder on PYTHONPATH (``make test-seeds``).

Installs the offline guard (``tests/offline`` must also be on PYTHONPATH) and
shifts every seed by ``$VILAB_SEED_OFFSET`` (see ``seed_shift``).
"""

import offline_guard  # noqa: F401 - importing it installs the guard
import seed_shift

seed_shift.install()
