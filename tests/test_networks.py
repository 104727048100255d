"""The shipped modules: geometry, memory layout, thread settings."""

import pickle

import numpy as np
import pytest
import torch

from digitnet import CNN, DigitClassifier, LeNet5


def test_strided_stem_halves_resolution_without_pooling():
    net = CNN((1, 28, 28), 10, channels=(16, 32), stem_stride=2)
    pools = [m for m in net.features if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 1  # only after the last block: 28 -> 14 -> 7
    assert net.head[0].in_features == 32 * 7 * 7
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_pool_chooses_which_blocks_pool():
    net = CNN((1, 28, 28), 10, channels=(32, 64, 64), pool=(True, True, False))
    kinds = [type(m).__name__ for m in net.features]
    assert kinds.count("MaxPool2d") == 2
    assert kinds.index("MaxPool2d") == 1
    # The third block convolves at 7x7 and does not pool.
    assert kinds[-5:] == ["Conv2d", "BatchNorm2d", "ReLU", "Dropout", "Flatten"]
    assert net.head[0].in_features == 64 * 7 * 7
    default = CNN((1, 28, 28), 10, channels=(32, 64, 64))
    assert default.head[0].in_features == 64 * 7 * 7  # 28 -> 14 -> 14 -> 7
    with pytest.raises(ValueError, match=r"pool needs one entry per .* got \(True,\)"):
        CNN((1, 28, 28), 10, pool=(True,))


def _conv_weights(module):
    return [p for p in module.parameters() if p.ndim == 4]


@pytest.mark.parametrize(
    ("cls", "shape"),
    [(CNN, (1, 28, 28)), (CNN, (1, 8, 8)), (CNN, (3, 16, 16)), (LeNet5, (1, 28, 28))],
)
def test_channels_last_layout_changes_speed_not_results(cls, shape):
    torch.manual_seed(0)
    # No dropout: masks are drawn in memory order, so they differ by layout.
    nchw = cls(shape, 10, dropout=0.0, channels_last=False)
    nhwc = cls(shape, 10, dropout=0.0, channels_last=True)
    nhwc.load_state_dict(nchw.state_dict())
    assert all(
        w.is_contiguous(memory_format=torch.channels_last) and not w.is_contiguous()
        for w in _conv_weights(nhwc)
        if w.shape[1] > 1  # a single-input-channel kernel is both layouts
    )
    assert all(w.is_contiguous() for w in _conv_weights(nchw))
    # The stored values do not depend on the layout.
    for key, value in nhwc.state_dict().items():
        torch.testing.assert_close(value, nchw.state_dict()[key], rtol=0, atol=0)
    x = torch.randn(32, *shape)
    for train in (True, False):
        nchw.train(train)
        nhwc.train(train)
        torch.testing.assert_close(nhwc(x), nchw(x), rtol=1e-4, atol=1e-4)


def test_channels_last_survives_pickling_and_loading_state():
    torch.manual_seed(0)
    net = pickle.loads(pickle.dumps(CNN((1, 28, 28), 10)))
    weight = _conv_weights(net)[-1]
    assert weight.is_contiguous(memory_format=torch.channels_last)
    net.load_state_dict(CNN((1, 28, 28), 10, channels_last=False).state_dict())
    assert weight.is_contiguous(memory_format=torch.channels_last)


def test_estimator_trains_in_either_layout(small_digits):
    X_train, X_test, y_train, y_test = small_digits
    scores = []
    for layout in (True, False):
        clf = DigitClassifier(
            architecture="cnn",
            module_params={"channels_last": layout},
            max_iter=3,
            random_state=0,
        ).fit(X_train, y_train)
        scores.append(clf.score(X_test, y_test))
        weight = _conv_weights(clf.net_.module_)[-1]
        assert weight.is_contiguous(memory_format=torch.channels_last) is layout
    assert min(scores) > 0.8
    np.testing.assert_allclose(scores[0], scores[1], atol=0.03)


def test_fit_and_predict_leave_torch_thread_settings_alone(small_digits):
    X_train, X_test, y_train, _ = small_digits
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        clf = DigitClassifier(max_iter=1, random_state=0).fit(X_train, y_train)
        clf.predict(X_test)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
