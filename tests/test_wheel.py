"""The wheel built from the repository works outside it (#21 item 1).

The wheel is built as `pip wheel .` builds it, installed into a new virtualenv, and every command
that needs no server is run from a folder outside the repository. The new virtualenv gets its
dependencies from this one's site-packages through a `.pth` line: a folder added that way has its
own `.pth` files ignored, so this repository's editable install is not visible there and `timeline`
can only come from the wheel (the test checks it does). No command reaches past this machine: the
starter's real feeds are replaced with none before anything polls.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(command: list[str], cwd: Path, env: dict[str, str], code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == code, (command, done.returncode, done.stdout, done.stderr)
    return done


@pytest.mark.timeout(600)  # building the wheel (in an isolated build environment) takes a minute or two
def test_the_wheel_installs_and_runs_outside_the_repository(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)], tmp_path, env)
    (wheel,) = dist.glob("timeline_alerts-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "timeline/starter/milestones.yaml",
        "timeline/starter/env.example",
        "timeline/web/templates/index.html",
    ):
        assert shipped in names
    assert any(n.startswith("timeline/migrations/versions/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    python, timeline = venv / "bin" / "python", str(venv / "bin" / "timeline")
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)], tmp_path, env
    )
    where = _run([str(python), "-c", "import timeline; print(timeline.__file__)"], tmp_path, env).stdout
    assert where.startswith(str(site)), where

    work = tmp_path / "work"
    work.mkdir()
    assert _run([timeline, "--help"], work, env).stdout.count("init") >= 1
    missing = _run([timeline, "list"], work, env, code=2)
    assert f"no milestones.yaml in {work / 'config'}" in missing.stderr
    assert list(work.iterdir()) == []

    assert "timeline check" in _run([timeline, "init"], work, env).stdout
    (work / "config" / "feeds.yaml").write_text("feeds: []\n")
    assert "7 milestones, OK" in _run([timeline, "check"], work, env).stdout
    for command in (
        ["db", "upgrade"],
        ["sync", "--dry-run"],
        ["sync"],
        ["list"],
        ["list", "--evidence", "--archived"],
        ["notices", "--json"],
        ["preview", "--until", "2030-01-01"],
        ["once", "--json"],
        ["poll"],
        ["feeds"],
        ["feeds", "export"],
        ["subscriptions", "list"],
        ["deliveries"],
    ):
        _run([timeline, *command], work, env)
    assert (work / "config" / "var" / "timeline.db").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pointed = env | {"TIMELINE_CONFIG_DIR": str(work / "config")}
    listed = json.loads(_run([timeline, "list", "--json"], elsewhere, pointed).stdout)
    assert len(listed) == 7  # the same database, found from another folder
    assert list(elsewhere.iterdir()) == []
