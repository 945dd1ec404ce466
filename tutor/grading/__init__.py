"""Grading as the front sees it, without torch: sending a solution's checks to the
sandbox and reading the verdicts back (``grade``), the reports (``results``) and their
file formats (``formats``), and the source rules checked before anything runs
(``rules``). The code that runs in children lives in :mod:`tutor.judging`, the values
they exchange in :mod:`tutor.values`."""

#: Who sees a Gradescope test, and when (Gradescope's own words); hidden checks' tests
#: take one of them (``tutor grade --gradescope-hidden-visibility``), by default
#: :data:`GRADESCOPE_HIDDEN_DEFAULT`. Here, not in ``formats``, so that the CLI reads
#: them without importing the report formats.
GRADESCOPE_VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")
GRADESCOPE_HIDDEN_DEFAULT = "after_due_date"
