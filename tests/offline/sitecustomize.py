"""Loaded at start-up by every Python process with this folder on PYTHONPATH: install the offline guard."""

import offline_guard  # noqa: F401 - importing it is what installs the guard
