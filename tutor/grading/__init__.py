"""Grading: checks, the judge, and reports. The orchestration imports no torch; the
harness and judge modules run inside sandbox children."""
