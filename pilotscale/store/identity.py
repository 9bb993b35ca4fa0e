"""Who is at the keyboard, as recorded next to every manual change."""

from __future__ import annotations

import getpass


def os_user() -> str:
    """The operating-system user, or '' where there is none (some containers)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
