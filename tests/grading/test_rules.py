"""Source rules: a loop hidden in a string is still a loop."""

from __future__ import annotations

from tutor.grading.rules import check_rules
from tutor.lessons.model import Rules

NO_LOOPS = Rules(no_loops=True)


def test_a_loop_in_an_exec_string_breaks_no_loops():
    source = 'def total(xs):\n    out = 0\n    exec("for x in xs: out += x")\n    return out\n'
    [violation] = check_rules(source, NO_LOOPS)
    assert violation.line == 3 and "calls exec()" in violation.message


def test_eval_and_compile_are_flagged_too_but_method_calls_named_eval_are_not():
    flagged = check_rules('f = eval("lambda: 1")\ng = compile("1", "<s>", "eval")\n', NO_LOOPS)
    assert [v.line for v in flagged] == [1, 2]
    assert check_rules("def f(net):\n    net.eval()\n    return net\n", NO_LOOPS) == []
    assert check_rules('exec("x = 1")\n', Rules()) == []  # only where loops are banned


def test_map_filter_and_reduce_are_loops_too():
    for source in ("y = list(map(lambda t: t * 2, xs))\n", "y = filter(None, xs)\n",
                   "from functools import reduce\ny = reduce(lambda a, b: a + b, xs)\n",
                   "import functools\ny = functools.reduce(f, xs)\n"):
        [violation] = check_rules(source, NO_LOOPS)
        assert "a Python loop over the items" in violation.message, source
    assert check_rules("y = list(map(f, xs))\n", Rules()) == []  # only where loops are banned


def test_a_module_the_answer_wrote_cannot_hide_a_loop():
    [violation] = check_rules("import helper\n\ndef f(x):\n    return helper.f(x)\n", NO_LOOPS)
    assert violation.line == 1 and "imports helper" in violation.message
    allowed = "import torch\nimport torch.nn.functional as F\nimport math\nfrom typing import Any\nfrom functools import partial\n"
    assert check_rules(allowed, NO_LOOPS) == []
