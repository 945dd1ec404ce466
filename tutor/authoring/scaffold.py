"""The text of a new lesson and of a new exercise (``tutor new``), for authors.

A scaffold passes ``check-lessons --format-only`` as written, and fails the full
``check-lessons`` until the author replaces the reference solution's placeholder
(:data:`REFERENCE_PLACEHOLDER`): every ``TODO`` marks what is left to write.
"""

from __future__ import annotations

import difflib
import keyword

from tutor.lessons.topics import TOPICS

#: The body of a scaffold's ``python solution``: it raises, so the reference never
#: passes its checks until the author writes one.
REFERENCE_PLACEHOLDER = 'raise NotImplementedError("write the reference solution")'
#: The topic a new lesson declares when its id is close to none of the topic keys.
DEFAULT_TOPIC = "tensor-math"
#: The exercise a new lesson starts with.
FIRST_EXERCISE = "first-exercise"


def title_from_id(ident: str) -> str:
    """``broadcasting-rules`` -> ``Broadcasting rules``."""
    words = ident.replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def function_name(exercise_id: str) -> str:
    """The Python name an exercise's scaffold asks for: its id with '_' for '-'
    (``solve_`` in front when that is no identifier: ``2d-conv``, ``class``)."""
    name = exercise_id.replace("-", "_")
    if not name.isidentifier() or keyword.iskeyword(name):
        name = f"solve_{name}"
    return name


def topic_for(lesson_id: str) -> str:
    """A valid topic key for a new lesson: the closest to its id, else :data:`DEFAULT_TOPIC`."""
    close = difflib.get_close_matches(lesson_id, list(TOPICS), n=1, cutoff=0.6)
    return close[0] if close else DEFAULT_TOPIC


def lesson_text(lesson_id: str, order: int) -> str:
    """A whole lesson file: header, prose, one snippet with its output, one exercise."""
    title = title_from_id(lesson_id)
    return f'''+++
id = "{lesson_id}"
title = "{title}"
order = {order}
topics = ["{topic_for(lesson_id)}"]  # TODO: keys from the topic table in lessons/README.md
summary = "TODO: one line for the lesson list."
+++

# {title}

TODO: what this lesson teaches and why it matters. Any Markdown works here. Each
`python` fence is a cell the learner runs with one key; the `output` fence after it is
what the cell prints, and `tutor check-lessons` fails when the two drift apart.

```python
x = torch.arange(6).reshape(2, 3)
print(x.shape, x.dtype)
```

```output
torch.Size([2, 3]) torch.int64
```

TODO: what the cell showed. The result panel under it lists every tensor it left.

{exercise_text(FIRST_EXERCISE)}'''


def exercise_text(exercise_id: str) -> str:
    """One exercise section: prompt, starter, reference placeholder, two wrong answers,
    three hints and checks (one visible, one hidden)."""
    name = function_name(exercise_id)
    return f'''## Exercise: {title_from_id(exercise_id)} {{#{exercise_id}}}

TODO: the prompt. Say exactly what to write: `{name}(x)` takes a float tensor `x` and
returns ... (the function's name, its arguments, what it returns).

```python starter
def {name}(x):
    # TODO: your code here
    return x
```

```python solution
def {name}(x):
    {REFERENCE_PLACEHOLDER}
```

```python wrong
# TODO lazy: an answer that looks right but is not (this line says why it is wrong)
def {name}(x):
    return x.clone()
```

```python wrong
# TODO beginner: the first mistake a learner makes (this line says why it is wrong)
def {name}(x):
    return None
```

```hint
TODO where to look: the section of this lesson, or the documentation page, that helps.
```

```hint
TODO which concept: the idea or the function to use, by name.
```

```hint
TODO the code: the key line of the answer, such as `return ...`.
```

```toml checks
[[check]]
name = "a small input"
setup = "x = torch.randn(3)"
expr = "{name}(x)"
points = 1                   # what passing this check is worth (default 1)

[[check]]
name = "a larger input"
setup = "x = torch.randn(4, 5)"
expr = "{name}(x)"
hidden = true                # only `tutor grade` runs it; learners see that it exists
```
'''
