"""Mutation testing of the pure decision modules, each against its own tests (`make mutation`).

For every module below, a copy of the packages and tests is laid out in build/mutation/<name>/ with a
`[tool.mutmut]` section that mutates that one module and selects only its own test files; mutmut 3
runs there (fork-server isolation, so caches filled by the clean run cannot hide a mutant; no
PostgreSQL). Then the kill rate of each module and of all together is printed from mutmut's results
(`mutants/<module>.meta`), with the mutants that survived or were reached by no test.

    .venv/bin/python scripts/mutation.py            every module
    .venv/bin/python scripts/mutation.py dates rules    some of them (by name)
    .venv/bin/python scripts/mutation.py --report   print the figures of the last runs again

Exit status 1 when the overall kill rate is under the floor or some mutant was reached by no test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "mutation"
FLOOR = 90.0

MODULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dates": ("timeline/dates.py", ("tests/timeline/test_dates.py",)),
    "rules": ("timeline/rules.py", ("tests/timeline/test_rules.py",)),
    "policy": ("alerts/policy.py", ("tests/alerts/test_policy.py",)),
    "match": ("timeline/feeds/match.py", ("tests/feeds/test_match.py",)),
    "match_rules": ("timeline/config/match_rules.py", ("tests/feeds/test_match.py",)),
    "decide": ("timeline/feeds/decide.py", ("tests/feeds/test_decide.py",)),
    "signing": ("alerts/signing.py", ("tests/alerts/test_signing.py",)),
    "headers": ("alerts/headers.py", ("tests/alerts/test_headers.py",)),
    "humanize": ("timeline/humanize.py", ("tests/timeline/test_humanize.py",)),
}
KILLED = frozenset({"killed", "timeout", "caught by type check", "segfault"})
"""mutmut's verdicts of a mutant the tests caught: a failing test, tests that no longer end in time."""
NO_TESTS = "no tests"
SKIPPED = "skipped"
"""Not counted either way."""

_SETTINGS = """
[tool.mutmut]
source_paths = ["timeline", "alerts"]
only_mutate = [{module!r}]
pytest_add_cli_args = ["-p", "no:randomly", "-p", "no:cacheprovider", "-m", "not postgres and not reliability"]
pytest_add_cli_args_test_selection = {tests}
process_isolation = "forkserver"
use_git_change_detection = false
"""


@dataclass(frozen=True)
class Figures:
    name: str
    module: str
    killed: int
    survived: tuple[str, ...]
    no_tests: tuple[str, ...]
    other: tuple[str, ...]

    @property
    def counted(self) -> int:
        return self.killed + len(self.survived) + len(self.no_tests) + len(self.other)

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.counted if self.counted else 0.0


def _prepare(name: str, module: str, tests: tuple[str, ...]) -> Path:
    work = BUILD / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for folder in ("timeline", "alerts", "tests", "config"):
        shutil.copytree(REPO / folder, work / folder, ignore=ignore)
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    text = _without_table(text, "[tool.mutmut]")
    text = text.replace('addopts = "-ra --strict-markers -p no:cacheprovider"', 'addopts = "-ra --strict-markers"')
    settings = _SETTINGS.format(module=module, tests=json.dumps(list(tests)))
    (work / "pyproject.toml").write_text(text + settings, encoding="utf-8")
    return work


def _without_table(text: str, header: str) -> str:
    """`text` (TOML) without the table `header` and its keys: the copy gets its own."""
    start = text.find("\n" + header + "\n")
    if start < 0:
        return text
    end = text.find("\n[", start + len(header) + 2)
    return text[:start] + (text[end:] if end >= 0 else "\n")


def _run(name: str, module: str, tests: tuple[str, ...]) -> None:
    work = _prepare(name, module, tests)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TIMELINE_TEST_PG_URL")}
    env["TIMELINE_HYPOTHESIS_PROFILE"] = "mutation"
    env["TIMELINE_SHARED_DIR"] = str(REPO.parent / "shared")
    env["TIMELINE_TEST_PG_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # no PostgreSQL, never
    mutmut = Path(sys.executable).parent / "mutmut"
    print(f"== {name}: mutating {module} against {' '.join(tests)}", flush=True)
    subprocess.run(
        [str(mutmut), "run", "--max-children", "2"],
        cwd=work,
        env=env,
        check=False,
        stdout=(work / "mutmut.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def _figures(name: str, module: str) -> Figures | None:
    meta = BUILD / name / "mutants" / (module + ".meta")
    if not meta.exists():
        return None
    from mutmut.stats import status_by_exit_code  # mutmut's own reading of its exit codes

    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    verdicts = {key: status_by_exit_code[code] for key, code in codes.items() if status_by_exit_code[code] != SKIPPED}
    killed = sum(1 for verdict in verdicts.values() if verdict in KILLED)
    survived = tuple(sorted(key for key, verdict in verdicts.items() if verdict == "survived"))
    no_tests = tuple(sorted(key for key, verdict in verdicts.items() if verdict == NO_TESTS))
    other = tuple(
        sorted(f"{key} ({v})" for key, v in verdicts.items() if v not in KILLED and v not in ("survived", NO_TESTS))
    )
    return Figures(name, module, killed, survived, no_tests, other)


def _report(names: list[str]) -> int:
    rows = [f for name in names if (f := _figures(name, MODULES[name][0])) is not None]
    missing = [name for name in names if _figures(name, MODULES[name][0]) is None]
    print(
        f"\n{'module':<28} {'mutants':>8} {'killed':>7} {'survived':>9} {'no tests':>9} {'other':>6} {'kill rate':>10}"
    )
    for f in rows:
        print(
            f"{f.module:<28} {f.counted:>8} {f.killed:>7} {len(f.survived):>9} {len(f.no_tests):>9}"
            f" {len(f.other):>6} {f.rate:>9.1f}%"
        )
    total = sum(f.counted for f in rows)
    killed = sum(f.killed for f in rows)
    overall = 100.0 * killed / total if total else 0.0
    no_tests = sum(len(f.no_tests) for f in rows)
    print(
        f"{'overall':<28} {total:>8} {killed:>7} {sum(len(f.survived) for f in rows):>9} {no_tests:>9}"
        f" {sum(len(f.other) for f in rows):>6} {overall:>9.1f}%"
    )
    for f in rows:
        for label, keys in (("survived", f.survived), ("no tests", f.no_tests), ("not checked", f.other)):
            for key in keys:
                print(f"  {label}: {key}")
    for name in missing:
        print(f"  {name}: no results (see {BUILD / name / 'mutmut.log'})")
    ok = not missing and overall >= FLOOR and no_tests == 0
    print(
        f"\n{'PASS' if ok else 'FAIL'}: {overall:.1f}% killed overall (floor {FLOOR:.0f}%),"
        f" {no_tests} reached by no test"
    )
    return 0 if ok else 1


def main(argv: list[str]) -> int:
    report_only = "--report" in argv
    names = [a for a in argv if not a.startswith("--")] or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        print(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(MODULES)}", file=sys.stderr)
        return 2
    if not report_only:
        for name in names:
            module, tests = MODULES[name]
            _run(name, module, tests)
    return _report(names)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
