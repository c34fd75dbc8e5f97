"""The shape the code keeps (issue #22): no module of timeline/ or alerts/ over 400 lines, and no
function of radon complexity rank D or worse (complexity above 20). Run by `make lint`."""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

MAX_LINES = 400
WORST_RANK = "C"
PACKAGES = ("timeline", "alerts")


def problems(root: Path) -> list[str]:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # history: never edited, not a design
            text = path.read_text(encoding="utf-8")
            name = path.relative_to(root)
            lines = text.count("\n")
            if lines > MAX_LINES:
                found.append(f"{name}: {lines} lines, more than {MAX_LINES}: split it by idea")
            for block in cc_visit(text):
                rank = cc_rank(block.complexity)
                if rank > WORST_RANK:
                    found.append(
                        f"{name}:{block.lineno}: {block.fullname} has complexity {block.complexity} (rank {rank}): "
                        "split it into named steps or a table"
                    )
    return found


def main() -> int:
    found = problems(Path(__file__).resolve().parent.parent)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
