"""Named sets of DigitClassifier parameters for common trade-offs."""

#: Parameter sets: ``DigitClassifier(**PRESETS["fast"])``. Each is a plain dict
#: of constructor parameters, so the result clones, pickles and grid-searches
#: like any estimator, and any entry can be overridden.
#:
#: ``"fast"``: a small CNN (16 and 32 filters, the first convolution strided
#: by 2), 2 epochs of one-cycle Adam, no augmentation: "good enough, now"
#: (99.1% on MNIST in about 25 s on a 2-core CPU; see docs/benchmarks.md).
#: ``"accurate"``: the default CNN with a third convolution (64 filters, at
#: 7x7 on MNIST), batch augmentation with elastic distortions and random
#: stroke widths on top of the affine transforms, 20 epochs, and predictions
#: averaged over 15 test-time copies of each image (``test_time_augment``):
#: 99.66% on MNIST (median of 3 seeds; 99.64% with affine augmentation
#: alone, 99.59% in one pass) in about 11-17 minutes on a 2-core CPU;
#: prediction takes 16 times as long (``set_params(test_time_augment=0)``
#: for one pass).
PRESETS = {
    "fast": {
        "architecture": "cnn",
        "augment": False,
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
        "module_params": {"channels": (32, 64, 64), "pool": (True, True, False)},
        "augment": {"elastic": 0.06, "thickness": 0.5},
        "max_iter": 20,
        "test_time_augment": 15,
    },
}
