"""mypy over the package as it installs: pilotscale with flows/, tasks/, models/,
notifications/ and deployments/ inside it.

The top-level folders become pilotscale.flows, ... through setuptools' package-dir
mapping, which an editable install resolves with an import hook that mypy does not
follow. This builds the installed layout as a tree of links under build/typecheck (made
anew each run, so added or removed modules are seen) and checks that; errors name the
linked paths, which lead back to the files in the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAPPED = ("flows", "tasks", "models", "notifications", "deployments")


def build_tree() -> Path:
    tree = REPO / "build" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    package = tree / "pilotscale"
    package.mkdir(parents=True)
    for entry in (REPO / "pilotscale").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name in MAPPED:
        (package / name).symlink_to(REPO / name)
    return package


def main() -> int:
    package = build_tree()
    command = [sys.executable, "-m", "mypy", *sys.argv[1:], str(package)]
    return subprocess.run(command, cwd=REPO, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
