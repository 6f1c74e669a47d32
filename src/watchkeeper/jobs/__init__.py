"""Processing jobs: the built-in analyzer (`builtin`); runners and executors come with the job runner."""
