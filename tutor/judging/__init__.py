"""What runs inside sandbox children for grading, with torch: the harness that runs a
solution's checks and records their values, the pristine restore that undoes what
learner code patched, and the judge that compares the learner's values with the
reference's in a process that never ran learner code."""
