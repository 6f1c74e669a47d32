"""Processing jobs: the built-in analyzers (`analyzers/`, on the shared `toolkit/`), the job runner, the worker
process and the sandbox."""
