"""Who is at the keyboard, as recorded next to every manual change."""

from __future__ import annotations

import os


def os_user() -> str:
    """The operating-system user this process runs as, from its real uid.

    Never from USER, LOGNAME or similar variables, as `getpass.getuser()` reads them first:
    anyone can set them (`USER=elena pilotscale approve ...` would record elena). A uid
    with no passwd entry (a container started with `--user 1234`) is recorded as its
    number, as `ps` and `ls -l` show it.
    """
    try:
        import pwd
    except ImportError:  # Windows has no uids; the login name is all there is
        import getpass

        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return ""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
