"""`python -m bench.hotspots PROFILE [FUNCTION]`: where a py-spy profile spent its time.

PROFILE is what `python -m bench --profile DIR` (or `py-spy record --format raw`)
wrote: one line per distinct stack, with its sample count. Prints, for the stacks
that pass through FUNCTION (all of them without it), the share of samples under each
frame, largest first: "inclusive" time, as in a flame graph read top-down.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def inclusive(lines: list[str], within: str | None) -> tuple[int, Counter[str]]:
    """(samples counted, samples under each frame), each frame counted once per stack."""
    total, under = 0, Counter[str]()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        if within is not None and within not in stack:
            continue
        samples = int(count)
        total += samples
        under.update(dict.fromkeys(set(stack.split(";")), samples))
    return total, under


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots", description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("function", nargs="?", help="only stacks through this frame")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--match", default="", help="only frames containing this text")
    args = parser.parse_args(argv)
    total, under = inclusive(args.profile.read_text().splitlines(), args.function)
    if not total:
        print("no samples" + (f" through {args.function}" if args.function else ""))
        return 1
    print(f"{total} samples" + (f" through {args.function}" if args.function else ""))
    shown = [(f, n) for f, n in under.most_common() if args.match in f][: args.top]
    for frame, samples in shown:
        print(f"{samples:7d} {100 * samples / total:5.1f}%  {frame[:140]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
