"""Freed parser memory goes back to the operating system (glibc's malloc_trim)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pilotscale.memory import release_free_memory


def test_release_is_harmless_to_call_any_time() -> None:
    first = release_free_memory()
    assert release_free_memory() == first


@pytest.mark.skipif(not release_free_memory(), reason="the C library has no malloc_trim")
def test_a_large_parse_leaves_no_resident_peak_behind() -> None:
    # In a fresh process: resident size is per process, and this one has run other tests.
    script = textwrap.dedent(
        """
        import json, sys
        from pydantic import TypeAdapter
        from pilotscale.memory import release_free_memory
        from pilotscale.plan.schema import Person

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

        people = json.dumps([
            {"id": f"p{i}", "name": f"Person {i}", "email": f"p{i}@example.com"}
            for i in range(100_000)
        ])
        before = rss()
        parsed = TypeAdapter(list[Person]).validate_json(people)
        grown = rss() - before
        release_free_memory()
        kept = rss() - before
        print(json.dumps({"grown": grown, "kept": kept, "count": len(parsed)}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    found = json.loads(out)
    print(f"grown {found['grown']:.0f} MB by the parse, {found['kept']:.0f} MB kept after release")

    assert found["count"] == 100_000
    # The parse's native scratch buffers are returned; the people themselves stay.
    assert found["kept"] < found["grown"] * 0.8, found
