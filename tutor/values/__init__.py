"""Values as they cross from a sandbox child to the judge: the encoder that turns what a
check collected into data (tensors, modules, optimizers, schedules), the decoder that
reads it back without unpickling, and the comparisons the check kinds build on. Used by
the child-side harness, the judge and every check kind; torch is imported by the
functions that need it, never by the front."""
