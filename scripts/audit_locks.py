"""Audit the locked dependencies for known vulnerabilities with pip-audit (`make audit`).

    python scripts/audit_locks.py requirements/runtime.lock requirements/dev.lock

Exit 1 when any locked version has a known vulnerability (fix it by raising the pin,
or explain it in docs/reliability.md and pass its id in PILOTSCALE_AUDIT_IGNORE).

pip-audit asks PyPI's per-version JSON API (or OSV) about each pin. Where neither
answers, as on a network that reaches only the package index, it cannot audit a
package and says so; that is reported loudly but is not a failure, because it says
nothing about the dependencies. PILOTSCALE_AUDIT_STRICT=1 makes it one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def main(locks: list[str]) -> int:
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--no-deps",  # the locks pin the whole tree already
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    for lock in locks:
        command += ["--requirement", lock]
    for vuln in os.environ.get("PILOTSCALE_AUDIT_IGNORE", "").split():
        command += ["--ignore-vuln", vuln]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not run: {result.stderr.strip()}", file=sys.stderr)
        return 2
    packages = report.get("dependencies", [])
    skipped = [p for p in packages if p.get("skip_reason")]
    findings = [(p, v) for p in packages for v in p.get("vulns", [])]
    for package, vuln in findings:
        fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed version yet"
        print(
            f"VULNERABLE {package['name']}=={package['version']}: {vuln['id']} (fixed in {fixed})"
        )
    audited = len(packages) - len(skipped)
    print(
        f"{len(packages)} locked packages: {audited} audited, {len(findings)} known "
        f"vulnerabilities, {len(skipped)} could not be audited"
    )
    if skipped:
        reasons = sorted({p["skip_reason"].split(":")[0] for p in skipped})
        print(f"WARNING: not audited: {'; '.join(reasons)}", file=sys.stderr)
        if audited == 0:
            print(
                "WARNING: no vulnerability service answered (PyPI's per-version JSON API and "
                "OSV are unreachable from here), so nothing was checked; see "
                "docs/reliability.md",
                file=sys.stderr,
            )
    if findings:
        return 1
    if skipped and os.environ.get("PILOTSCALE_AUDIT_STRICT") == "1":
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
