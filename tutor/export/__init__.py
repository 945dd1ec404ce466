"""Kits for the engines that grade at scale, and a public copy of a lesson set.

Each kit is written by ``tutor export <engine> OUT`` and holds what the engine runs: a
script that calls ``tutor grade`` on a submission and turns its report into the engine's
format. No torch and no Textual here.
"""

#: What ``tutor export KIND OUT`` writes: a copy of the lessons, or the kit of one engine.
KINDS = ("lessons", "gradescope", "prairielearn", "github-actions")
