"""Tools for lesson authors: ``tutor check-lessons`` (every reference passes, every
starter and wrong answer fails, every snippet prints its output), its ``--watch`` mode,
and the scaffolds of ``tutor new``."""
