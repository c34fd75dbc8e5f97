"""Writing an accepted value back into milestones.yaml: one line changes, whatever the file's style;
an edit made since is never overwritten; the file keeps its mode; git commits it when asked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.proposals.writeback import WriteBackError, fingerprint, git_commit, write_back

STYLES = {
    "shipped": (
        "milestones:\n  - id: build   # the build\n    title: Build\n    starts: 2025\n    ends: 2027   # due 2028\n"
    ),
    "indent-2": (
        "# plans\nmilestones:\n- id: build\n  title: Build\n  starts: '2025'\n  ends: \"2027\"\n  tags: [a,   b]\n"
    ),
    "crlf": "milestones:\r\n  - id: build\r\n    title: Build\r\n    starts: 2025\r\n    ends: 2027\r\n",
    "flow": "milestones:\n  - {id: build, title: Build, starts: 2025, ends: 2027}\n",
}


def _lines_changed(before: str, after: str) -> list[tuple[str, str]]:
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(a) == len(b)
    return [(x, y) for x, y in zip(a, b, strict=True) if x != y]


@pytest.mark.parametrize("style", sorted(STYLES))
def test_only_the_value_changes_whatever_the_style(tmp_path: Path, style: str) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_bytes(STYLES[style].encode())
    path.chmod(0o640)
    written = write_back(path, "build", "ends", "2027", "2028-H1", fingerprint_then=fingerprint(path.read_bytes()))
    after = path.read_bytes().decode()
    [(old, new)] = _lines_changed(STYLES[style], after)
    assert old.replace("2027", "2028-H1") == new
    assert written.line == STYLES[style][: STYLES[style].index("2027")].count("\n") + 1
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["milestones.yaml"]  # no temporary file left


def test_a_file_changed_since_the_proposal_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_text(STYLES["shipped"])
    then = fingerprint(path.read_bytes())
    path.write_text(STYLES["shipped"].replace("title: Build", "title: The build"))
    with pytest.raises(WriteBackError, match="changed since this proposal was made"):
        write_back(path, "build", "ends", "2027", "2028", fingerprint_then=then)
    assert "title: The build" in path.read_text() and "ends: 2027" in path.read_text()


def test_a_value_no_longer_the_one_proposed_against_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_text(STYLES["shipped"].replace("ends: 2027", "ends: 2029"))
    with pytest.raises(WriteBackError, match=r"milestones.yaml:5: ends of build is now '2029', not '2027'"):
        write_back(path, "build", "ends", "2027", "2028", fingerprint_then=None)
    with pytest.raises(WriteBackError, match="milestone 'gone' is no longer in the file"):
        write_back(path, "gone", "ends", "2027", "2028", fingerprint_then=None)


def test_a_value_the_file_would_not_load_with_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_text(STYLES["shipped"])
    with pytest.raises(WriteBackError, match="would not load"):
        write_back(path, "build", "ends", "2027", "2024", fingerprint_then=None)  # ends before it starts
    assert path.read_text() == STYLES["shipped"]


@given(st.sampled_from(["2026", "2028-H2", "2029-Q1", "2030-07", "2031-02-28"]))
def test_any_period_is_written_as_the_one_value(new: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "milestones.yaml"
        path.write_text(STYLES["shipped"])
        write_back(path, "build", "ends", "2027", new, fingerprint_then=None)
        [(_, line)] = _lines_changed(STYLES["shipped"], path.read_text())
        assert line == f"    ends: {new}   # due 2028\n"


def test_git_commits_the_file_in_a_work_tree_and_says_why_not_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_text(STYLES["shipped"])
    assert git_commit(path, "x") == f"not committed: {tmp_path} is not a git work tree"
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "milestones.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "first"], check=True)
    write_back(path, "build", "ends", "2027", "2028", fingerprint_then=None)
    # the commit takes the repository's identity: set one for this repository
    subprocess.run([*git, "config", "user.name", "timeline"], check=True)
    subprocess.run([*git, "config", "user.email", "timeline@example.org"], check=True)
    assert (
        git_commit(path, "build: ends 2027 -> 2028\n\nEvidence: https://news.example.org/a")
        == f"committed in {tmp_path}"
    )
    log = subprocess.run([*git, "log", "-1", "--format=%B"], check=True, capture_output=True, text=True).stdout
    assert log.startswith("build: ends 2027 -> 2028") and "https://news.example.org/a" in log
    status = subprocess.run([*git, "status", "--porcelain"], check=True, capture_output=True, text=True).stdout
    assert status == ""
