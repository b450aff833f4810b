"""Compare the per-check verdicts of two ``--optim-report`` JSON files.

    python -m pytest_optim.verdicts serial.json parallel.json

Exit status 0 when every (candidate, check) has the same verdict in both, 1 otherwise (the
differences are listed). Use it to confirm that a run split over workers or machines concluded
what a serial run concludes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def verdicts(path: str | Path) -> dict[tuple[str, str], str]:
    """{(candidate, test id): 'passed' | 'failed' | 'n/a'} from a report JSON."""
    doc = json.loads(Path(path).read_text())
    return {
        (cand, check["test"]): check["verdict"]
        for cand, entry in doc["candidates"].items()
        for row in entry["families"].values()
        for check in row["checks"]
    }


def differences(a: dict, b: dict) -> list[str]:
    lines = []
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key, "missing"), b.get(key, "missing")
        if va != vb:
            lines.append(f"{key[0]} {key[1]}: {va} vs {vb}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m pytest_optim.verdicts A.json B.json", file=sys.stderr)
        return 2
    a, b = verdicts(args[0]), verdicts(args[1])
    diff = differences(a, b)
    counts = {v: sum(1 for x in a.values() if x == v) for v in ("passed", "failed", "n/a")}
    if diff:
        print(f"{len(diff)} of {len(set(a) | set(b))} verdicts differ:")
        print("\n".join(diff))
        return 1
    print(f"identical: {len(a)} verdicts ({counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['n/a']} n/a)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
