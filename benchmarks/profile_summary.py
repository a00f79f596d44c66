"""Summarise a py-spy raw profile (``py-spy record -f raw``, e.g. from
``benchmarks/throughput.py --py-spy PREFIX``): share of samples per area, the hottest
leaf frames and the functions with the most inclusive time.

    .venv/bin/python benchmarks/profile_summary.py /tmp/prof-sms.txt [--top 40]
"""

from __future__ import annotations

import argparse
import collections

AREAS = [
    ("events delivery loop", ["callboard/events/delivery"]),
    ("background worker", ["callboard/runtime/worker"]),
    ("SQLite COMMIT (fsync)", ["do_commit (sqlalchemy"]),
    ("engine + widgets", ["callboard/engine/", "callboard/widgets/"]),
    ("Liquid", ["liquid/"]),
    ("SQLAlchemy", ["sqlalchemy/"]),
    ("JSON", ["json/", "orjson"]),
    ("uvicorn / HTTP", ["uvicorn/", "httptools", "h11"]),
    ("starlette / anyio", ["starlette/", "anyio/"]),
    ("callboard (rest)", ["callboard/"]),
]


def _leaf_area(frame: str) -> str:
    for name, keys in AREAS:
        if any(k in frame for k in keys):
            return name
    return "other (stdlib, drivers)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("raw")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    total = 0
    by_area: collections.Counter[str] = collections.Counter()
    by_owner: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    with open(args.raw) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            n = int(count)
            total += n
            frames = stack.split(";")
            leaves[frames[-1]] += n
            # the innermost frame outside the stdlib says whose work it is
            owner = next(
                (fr for fr in reversed(frames) if "/" in fr and "python3." not in fr), frames[-1]
            )
            by_owner[_leaf_area(owner)] += n
            for name, keys in AREAS[:2]:
                if any(k in stack for k in keys):
                    by_area[name] += n
                    break
            else:
                by_area["request handling"] += n
            seen = set()
            for fr in frames:
                key = fr.split(":")[0]
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += n
    print(f"{total} samples")
    print("--- thread role")
    for name, n in by_area.most_common():
        print(f"{n / total * 100:5.1f}%  {name}")
    print("--- innermost non-stdlib frame's area")
    for name, n in by_owner.most_common():
        print(f"{n / total * 100:5.1f}%  {name}")
    print("--- leaf frames")
    for name, n in leaves.most_common(15):
        print(f"{n / total * 100:5.1f}%  {name}")
    print("--- inclusive")
    for name, n in inclusive.most_common(args.top):
        print(f"{n / total * 100:5.1f}%  {name}")


if __name__ == "__main__":
    main()
