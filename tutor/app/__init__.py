"""The Textual app. Depends on the core (lessons, sandbox, grading); never the reverse."""
