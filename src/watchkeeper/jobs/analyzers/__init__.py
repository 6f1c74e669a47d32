"""The built-in analyzers, one module each: `data_quality`, `ground_truth_merge`, `model_quality`. Each has
`run(environment, *, log, progress)`; `registry` picks one by image and analysis type."""
