"""TODO"""

from pilotscale.cli.main import app  # noqa: F401
