"""The garbage collector's scope around bursts of allocations."""

from __future__ import annotations

import gc
import threading
import weakref

from alerts.gc_freeze import new_objects_only


def test_older_objects_are_set_aside_inside_and_given_back_after() -> None:
    before = gc.get_freeze_count()
    assert before == 0
    with new_objects_only():
        assert gc.get_freeze_count() > 0
        made_inside = [[i] for i in range(10)]
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    assert made_inside


def test_callers_in_several_threads_nest() -> None:
    entered, release = threading.Event(), threading.Event()
    counts: list[int] = []

    def other() -> None:
        with new_objects_only():
            entered.set()
            release.wait(10)
        counts.append(gc.get_freeze_count())

    thread = threading.Thread(target=other)
    with new_objects_only():
        thread.start()
        assert entered.wait(10)
    # This caller left first: the other still runs inside, so the heap stays set aside.
    assert gc.get_freeze_count() > 0
    release.set()
    thread.join(10)
    assert counts == [0]
    assert gc.get_freeze_count() == 0


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_a_caller_arriving_inside_another_does_not_set_aside_what_was_made_since() -> None:
    with new_objects_only():
        made_inside = _Node()
        alive = weakref.ref(made_inside)
        with new_objects_only():
            del made_inside
            gc.collect()
            assert alive() is None
