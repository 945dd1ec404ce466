"""An author's story: `tutor check-lessons` runs what the lesson shows and says where it
disagrees, naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.cli import main

pytestmark = pytest.mark.slow

LESSON = """+++
id = "drift"
title = "Drift"
order = 1
topics = ["tensor-math"]
+++

```python
print(torch.ones(2) * 3)
```

```output
tensor([3., 3.])
```

```python
print(2 + 2)
```

```output
5
```

## Exercise: Double {{#double}}

Write `double(x)`.

```python starter
def double(x):
    return {starter}
```

```python solution
def double(x):
    return x * 2
```

```hint
Multiply.
```

```hint
`x * 2`.
```

```toml checks
[[check]]
name = "doubles"
setup = "x = torch.randn(3)"
expr = "double(x)"
```
"""


def write(tmp_path: Path, starter: str) -> Path:
    path = tmp_path / "drift.md"
    path.write_text(LESSON.format(starter=starter))
    return path


def test_a_drifting_output_and_a_passing_starter_are_reported_with_their_lines(tmp_path, capsys):
    path = write(tmp_path, starter="x * 2")
    assert main(["check-lessons", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:16: snippet 2 output differs at its line 1: the lesson shows '5', the run printed '4'" in err
    assert f"{path}:28: exercise 'drift/double': the starter passes every check; it must fail" in err
    assert "snippet 1" not in err


def test_a_lesson_that_agrees_with_itself_passes(tmp_path, capsys):
    path = write(tmp_path, starter="x")
    path.write_text(path.read_text().replace("```output\n5\n```", "```output\n4\n```"))
    assert main(["check-lessons", str(path)]) == 0
    assert "every reference passes, every starter fails" in capsys.readouterr().out
