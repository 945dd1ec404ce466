"""The rules check parses learners' sources in the grading threads (tutor grade,
check-lessons, the course tests): parses at once in several threads must not fail.

CPython 3.11 keeps the AST builder's recursion depth in interpreter-wide state; a
collection that runs finalizers in the middle of one parse lets another thread start
its own, and the first then fails with "SystemError: AST constructor recursion depth
mismatch". The conditions are made likely here: garbage cycles with finalizers pending,
a low collection threshold and a tiny switch interval."""

from __future__ import annotations

import gc
import sys
import threading

from tutor.grading.rules import check_rules
from tutor.lessons.model import Rules

SOURCE = "\n".join(f"def f{i}(x):\n    return [y * {i} for y in x if y > {i}]\n" for i in range(150))


class _Finalized:
    def __del__(self) -> None:
        sum(range(20))  # Python code in a finalizer: a point where threads switch


def test_the_rules_check_parses_in_many_threads_at_once():
    errors: list[BaseException] = []

    def work() -> None:
        for _ in range(40):
            for _ in range(30):
                a, b = _Finalized(), _Finalized()
                a.other, b.other = b, a  # a cycle: only the collector frees it
            try:
                check_rules(SOURCE, Rules(no_loops=True))
            except SystemError as exc:
                errors.append(exc)
                return

    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(100)
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
    assert errors == []
