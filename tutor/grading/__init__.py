"""Grading as the front sees it, without torch: sending a solution's checks to the
sandbox and reading the verdicts back (``grade``), the reports (``results``) and their
file formats (``formats``), and the source rules checked before anything runs
(``rules``). The code that runs in children lives in :mod:`tutor.judging`, the values
they exchange in :mod:`tutor.values`."""
