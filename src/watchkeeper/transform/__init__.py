"""Batch transform: a job runs its model's server over input objects and writes `.out` objects
(docs/batch-transform.md)."""
