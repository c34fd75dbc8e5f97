"""Reading config files: once, from regular files only, through the C composer, within limits.

Each hostile file of issue #17 (M4: nesting, a 5,000-digit integer, a NUL; M5: an alias bomb; a
FIFO; an empty file) is a `file:line: field: message` problem, never a traceback, and nothing of
the last good state is lost.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from alerts.notices import NOTICES
from timeline.config.files import read_file
from timeline.config.milestones import load_milestones
from timeline.config.yamldoc import MAX_DEPTH, _PureLoader, parse_document
from timeline.errors import ConfigError
from timeline.store import MILESTONES
from timeline.sync import sync_config

REPO = Path(__file__).resolve().parents[2]
GOOD = "milestones:\n  - id: a\n    title: A\n    when: 2026-Q3\n"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _problems(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "milestones.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(ConfigError) as caught:
        load_milestones(path)
    return [str(p).removeprefix(f"{tmp_path}/") for p in caught.value.problems]


def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "milestones.yaml"
    os.mkfifo(fifo)
    done = threading.Event()
    found: list[str] = []

    def read() -> None:
        found.append(str(read_file(fifo).problem))
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(10), "reading a FIFO blocked"
    assert found == [f"{fifo}: is a named pipe (FIFO), not a regular file; config files must be plain files"]


def test_a_folder_or_a_device_is_refused(tmp_path: Path) -> None:
    (tmp_path / "milestones.yaml").mkdir()
    assert "is a folder, not a regular file" in str(read_file(tmp_path / "milestones.yaml").problem)
    assert "is a character device" in str(read_file(Path("/dev/null")).problem)


def test_an_absent_file_is_absent_and_one_read_gives_the_bytes(tmp_path: Path) -> None:
    assert read_file(tmp_path / "nothing.yaml").absent
    (tmp_path / "m.yaml").write_bytes(GOOD.encode())
    read = read_file(tmp_path / "m.yaml")
    assert (read.data, read.problem, read.absent) == (GOOD.encode(), None, False)


@pytest.mark.parametrize("text", ["", "   \n\n\t\n", "# only a comment\n"])
def test_an_empty_milestones_file_is_refused_with_the_fix(tmp_path: Path, text: str) -> None:
    assert _problems(tmp_path, text) == [
        "milestones.yaml:1: the file is empty; write `milestones: []` to mean none (an empty file is what a "
        "half-finished save looks like, so it is never applied)"
    ]


def test_milestones_empty_list_means_none(tmp_path: Path) -> None:
    (tmp_path / "milestones.yaml").write_text("milestones: []\n")
    assert load_milestones(tmp_path / "milestones.yaml") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes: " + "[" * 250 + "]" * 250 + "\n",
            f"milestones.yaml:5: milestones[0].attributes[0]: values are nested more than {MAX_DEPTH} levels deep",
        ),
        (
            "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes: " + "[" * 5000 + "]" * 5000 + "\n",
            f"milestones.yaml:5: values are nested more than {MAX_DEPTH} levels deep",
        ),
        (
            "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes:\n      n: " + "7" * 5000 + "\n",
            "milestones.yaml:6: milestones[0].attributes.n: '77777777777777777777…7777777777' is too large; "
            "integers must lie between -9,223,372,036,854,775,808 and 9,223,372,036,854,775,807",
        ),
        (
            'milestones:\n  - id: a\n    title: "Anthropic\\0 data centres"\n    when: 2026\n',
            "milestones.yaml:3: milestones[0].title: the text holds a NUL character (\\0) at position 10; remove it",
        ),
        (
            'milestones:\n  - id: a\n    title: A\n    when: 2026\n    notes: "x\\ud800y"\n',
            "milestones.yaml:5: YAML syntax: while parsing a quoted scalar found invalid Unicode character escape",
        ),
        (
            "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes: {big: 1e400}\n",
            "milestones.yaml:5: milestones[0].attributes.big: '1e400' is not a finite number",
        ),
        (
            b"milestones:\n  - id: a\n    title: Caf\xe9\n    when: 2026\n",
            "milestones.yaml:3: is not UTF-8 text (byte 0xe9); save the file as UTF-8",
        ),
        (
            "milestones:\n  - id: a\n    title: A\n    when: !!python/object:os.system 2026\n",
            "milestones.yaml:4: milestones[0].when: the YAML tag tag:yaml.org,2002:python/object:os.system is not "
            "supported here",
        ),
    ],
    ids=["nested 250", "nested 5000", "5000 digits", "NUL", "surrogate", "infinite", "latin-1", "python tag"],
)
def test_hostile_values_are_file_line_problems(tmp_path: Path, text: str | bytes, expected: str) -> None:
    problems = _problems(tmp_path, text)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def _bomb(levels: int = 9, width: int = 10) -> str:
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "milestones: []\nbomb:\n" + "\n".join("  " + line for line in lines) + "\n"


def test_an_alias_bomb_is_refused_at_its_line_before_it_expands(tmp_path: Path) -> None:
    text = _bomb()
    assert len(text) < 3500
    problems = _problems(tmp_path, text)
    assert problems == [
        "milestones.yaml:6: bomb.d[7]: YAML aliases (*name) expand to more than 10,000 values here; write the "
        "values out, or repeat fewer of them through aliases"
    ]


def test_an_alias_loop_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "milestones: []\nloop: &x [1, *x]\n")
    assert problems == [
        "milestones.yaml:2: loop[1]: an alias (*name) refers to the value that contains it; YAML loops are not allowed"
    ]


def test_aliases_and_merge_keys_within_reason_work(tmp_path: Path) -> None:
    (tmp_path / "milestones.yaml").write_text(
        "milestones:\n"
        "  - <<: &common {subject: Anthropic, tags: [anthropic, us], timezone: America/Chicago}\n"
        "    id: a\n    title: A\n    when: 2026\n"
        "  - <<: *common\n    id: b\n    title: B\n    when: 2027\n    tags: [other]\n"
    )
    first, second = load_milestones(tmp_path / "milestones.yaml")
    assert (first.subject, first.tags, first.timezone) == ("Anthropic", ("anthropic", "us"), "America/Chicago")
    assert (second.subject, second.tags, second.timezone) == ("Anthropic", ("other",), "America/Chicago")


def test_scalars_read_as_yaml_1_2_as_before(tmp_path: Path) -> None:
    text = (
        "milestones:\n  - id: a\n    title: 'no'\n    when: 2026-09-15\n    attributes:\n"
        "      country: NO\n      yes_word: yes\n      on: on\n      octal: 0o17\n      hex: 0x1F\n"
        "      sep: 1_000\n      float: 1.5e3\n      quoted: '2025'\n      tagged: !!str 2025\n"
        "      null_value: ~\n      flag: true\n      time: 12:30\n      date: 2025-09-15\n"
    )
    (tmp_path / "milestones.yaml").write_text(text)
    (milestone,) = load_milestones(tmp_path / "milestones.yaml")
    assert milestone.title == "no" and milestone.when == "2026-09-15"
    assert milestone.attributes == {
        "country": "NO",
        "yes_word": "yes",
        "on": "on",
        "octal": 15,
        "hex": 31,
        "sep": 1000,
        "float": 1500.0,
        "quoted": "2025",
        "tagged": "2025",
        "null_value": None,
        "flag": True,
        "time": "12:30",
        "date": "2025-09-15",
    }


@pytest.mark.parametrize("name", ["milestones.yaml", "feeds.yaml", "subscriptions.yaml.example"])
def test_the_pure_python_composer_reads_the_shipped_files_as_libyaml_does(name: str) -> None:
    data = (REPO / "config" / name).read_bytes()
    fast = parse_document(data, Path(name))
    slow = parse_document(data, Path(name), loader=_PureLoader)
    assert fast.data == slow.data and fast.problems == slow.problems == []


def test_the_pure_python_composer_reports_deep_nesting_at_its_line() -> None:
    text = "a: 1\nb:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(400)) + "  " * 401 + "v: 1\n"
    with pytest.raises(ConfigError) as caught:
        parse_document(text.encode(), Path("deep.yaml"), loader=_PureLoader)
    (problem,) = caught.value.problems
    assert problem.line == MAX_DEPTH + 2 and "nested more than" in problem.message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_any_text_is_values_or_config_problems_never_a_crash(text: str) -> None:
    try:
        document = parse_document(text.encode("utf-8", "surrogatepass"), Path("any.yaml"))
    except ConfigError as exc:
        lines = max(1, len(text.rstrip("\n").split("\n")))
        assert all(p.line is None or 1 <= p.line <= lines for p in exc.problems), exc.problems
        return
    for _, problem in document.problems:
        assert problem.line is not None


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a: [", "b: {", "- x", "c: 'q", 'd: "', "  e: 1", "f: *g", "h: &h", "]", "}"]),
        min_size=1,
        max_size=8,
    )
)
def test_a_syntax_error_is_never_reported_past_the_end_of_the_file(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    try:
        parse_document(text.encode(), Path("x.yaml"))
    except ConfigError as exc:
        assert all(p.line is None or 1 <= p.line <= len(lines) for p in exc.problems), (text, exc.problems)


def test_an_unclosed_bracket_on_the_last_line_is_reported_on_that_line(tmp_path: Path) -> None:
    assert _problems(tmp_path, "milestones:\n  - id: a\n    title: A\n    when: [2026")[0].startswith(
        "milestones.yaml:4: YAML syntax: while parsing a flow sequence"
    )


def _count(engine: Engine) -> tuple[int, int, list[str]]:
    with engine.connect() as conn:
        titles = sorted(conn.execute(select(MILESTONES.c.title)).scalars())
        return (
            conn.execute(select(func.count()).select_from(MILESTONES)).scalar_one(),
            conn.execute(select(func.count()).select_from(NOTICES)).scalar_one(),
            titles,
        )


@pytest.mark.parametrize(
    "text",
    [
        'milestones:\n  - id: a\n    title: "A\\0"\n    when: 2026-Q3\n',
        "",
        _bomb(),
        "milestones:\n  - id: a\n    title: A\n    when: 2026-Q3\n    attributes: " + "[" * 300 + "]" * 300 + "\n",
    ],
    ids=["NUL", "empty", "alias bomb", "deep"],
)
def test_a_hostile_edit_changes_nothing_on_either_database(engine: Engine, tmp_path: Path, text: str) -> None:
    path = tmp_path / "milestones.yaml"
    path.write_text(GOOD)
    sync_config(engine, path, NOW)
    before = _count(engine)
    path.write_text(text)
    with pytest.raises(ConfigError):
        sync_config(engine, path, NOW)
    assert _count(engine) == before == (1, 0, ["A"])


def test_explicit_tags_and_odd_keys(tmp_path: Path) -> None:
    (tmp_path / "milestones.yaml").write_text(
        "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes:\n"
        '      n: !!int "3"\n      f: !!float "2.5"\n      none: !!null ""\n      t: !!bool true\n'
    )
    (milestone,) = load_milestones(tmp_path / "milestones.yaml")
    assert milestone.attributes == {"n": 3, "f": 2.5, "none": None, "t": True}
    problems = _problems(
        tmp_path,
        "milestones:\n  - id: a\n    title: A\n    when: 2026\n    attributes:\n      b: !!bool yes\n"
        "      i: !!int ten\n      [x]: 1\n      <<: [1]\n",
    )
    assert problems == [
        "milestones.yaml:6: milestones[0].attributes.b: 'yes' is not true or false",
        "milestones.yaml:7: milestones[0].attributes.i: 'ten' is not a number",
        "milestones.yaml:8: milestones[0].attributes: a key must be a plain value, not a list or a mapping",
        "milestones.yaml:9: milestones[0].attributes: `<<` merges mappings only; give it an alias of a mapping "
        "(<<: *name)",
    ]
