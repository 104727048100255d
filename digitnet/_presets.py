"""Named sets of DigitClassifier parameters for common trade-offs."""

#: Parameter sets: ``DigitClassifier(**PRESETS["fast"])``. Each is a plain dict
#: of constructor parameters, so the result clones, pickles and grid-searches
#: like any estimator, and any entry can be overridden.
#:
#: ``"fast"``: a small CNN (16 and 32 filters, the first convolution strided
#: by 2), 2 epochs of one-cycle Adam: "good enough, now" (99.0% on MNIST in
#: about 12 s on a 2-core CPU; see docs/benchmarks.md).
#: ``"accurate"``: the default CNN with batch augmentation for 20 epochs.
PRESETS = {
    "fast": {
        "architecture": "cnn",
        "module_params": {"channels": (16, 32), "stem_stride": 2},
        "hidden_layer_sizes": (128,),
        "dropout": 0.0,
        "batch_size": 128,
        "learning_rate": "one-cycle",
        "learning_rate_init": 3e-3,
        "max_iter": 2,
    },
    "accurate": {
        "architecture": "cnn",
        "augment": True,
        "max_iter": 20,
    },
}
