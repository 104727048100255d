"""The CUDA path on a real GPU: training, moving between devices, repeatability.

Skipped, with the reason, on machines without a CUDA GPU (CI has none); the
rest of the suite also runs on CUDA there, since ``device="auto"`` picks it.
"""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from digitnet import DigitClassifier, load

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU (torch.cuda.is_available() is False here)",
)

#: A model on CUDA runs its convolutions in TF32 (PyTorch's default for cuDNN):
#: its probabilities agree with the CPU's to about 1e-4.
TF32_TOLERANCE = 1e-3

#: Runs with CUDA hidden: fits (``fit X y out``) or predicts (``predict X model``);
#: with ``predict``, a model loaded from a pickle also trains one more epoch.
CPU_ONLY = textwrap.dedent(
    """
    import pickle, sys
    import numpy as np
    import torch
    import digitnet
    if torch.cuda.is_available():
        sys.exit("CUDA is visible in the CPU-only process")
    action, X_path, target = sys.argv[1:4]
    X = np.load(X_path)
    if action == "fit":
        y = np.load(sys.argv[4])
        model = digitnet.DigitClassifier(max_iter=3, random_state=0).fit(X, y)
        with open(target + ".pkl", "wb") as f:
            pickle.dump(model, f)
        model.save(target + ".dnet")
        np.save(target + ".proba.npy", model.predict_proba(X))
    else:
        if target.endswith(".dnet"):
            model = digitnet.load(target)
        else:
            with open(target, "rb") as f:
                model = pickle.load(f)
        print(model.device_)
        np.save(target + ".proba.npy", model.predict_proba(X))
        if not target.endswith(".dnet"):
            y = model.predict(X)
            model.set_params(warm_start=True, max_iter=1).fit(X, y)
            print(model.n_iter_)
    """
)


def run_without_cuda(*args):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    out = subprocess.run(
        [sys.executable, "-c", CPU_ONLY, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def gpu_model(small_digits):
    X_train, _, y_train, _ = small_digits
    return DigitClassifier(max_iter=3, random_state=0).fit(X_train, y_train)


def test_auto_trains_on_the_gpu(gpu_model):
    assert gpu_model.device_ == "cuda"
    assert all(p.is_cuda for p in gpu_model.net_.module_.parameters())


def test_a_gpu_model_predicts_the_same_on_a_cpu_only_machine(
    gpu_model, small_digits, tmp_path
):
    X_test = small_digits[1]
    np.save(tmp_path / "X.npy", X_test)
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps(gpu_model))
    saved = tmp_path / "model.dnet"
    gpu_model.save(saved)
    expected = gpu_model.predict_proba(X_test)
    for path in (pickled, saved):
        out = run_without_cuda("predict", tmp_path / "X.npy", path)
        lines = out.stdout.split()
        assert lines[0] == "cpu"
        if path == pickled:  # and it keeps training there
            assert lines[1] == str(gpu_model.n_iter_ + 1)
        proba = np.load(f"{path}.proba.npy")
        np.testing.assert_allclose(proba, expected, atol=TF32_TOLERANCE)
        assert (proba.argmax(1) == expected.argmax(1)).mean() >= 0.99
    # The model in this process stays on the GPU.
    assert all(p.is_cuda for p in gpu_model.net_.module_.parameters())


def test_a_cpu_trained_model_moves_to_the_gpu(small_digits, tmp_path):
    X_train, X_test, y_train, _ = small_digits
    np.save(tmp_path / "X.npy", X_train)
    np.save(tmp_path / "y.npy", y_train)
    target = tmp_path / "cpu_model"
    run_without_cuda("fit", tmp_path / "X.npy", target, tmp_path / "y.npy")
    cpu_proba = np.load(f"{target}.proba.npy")
    with open(f"{target}.pkl", "rb") as f:
        unpickled = pickle.load(f)
    for model in (unpickled, load(f"{target}.dnet")):
        assert model.device_ == "cuda"  # device="auto" re-resolves here
        assert all(p.is_cuda for p in model.net_.module_.parameters())
        proba = model.predict_proba(X_train)
        np.testing.assert_allclose(proba, cpu_proba, atol=TF32_TOLERANCE)
        assert model.score(X_test, small_digits[3]) > 0.8


def test_the_same_random_state_gives_the_same_predictions_on_the_gpu(small_digits):
    X_train, X_test, y_train, _ = small_digits
    probas = [
        DigitClassifier(max_iter=3, augment=True, random_state=0)
        .fit(X_train, y_train)
        .predict_proba(X_test)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(probas[0], probas[1])


def test_continued_training_on_the_gpu_moves_a_cpu_model_over(small_digits):
    X_train, _, y_train, _ = small_digits
    model = DigitClassifier(max_iter=2, random_state=0, device="cpu")
    model.fit(X_train, y_train)
    model.set_params(device="cuda", warm_start=True, max_iter=1).fit(X_train, y_train)
    assert model.device_ == "cuda"
    assert model.n_iter_ == 3
    optimizer_state = model.net_.optimizer_.state_dict()["state"]
    assert all(
        t.is_cuda for s in optimizer_state.values() for t in s.values() if t.ndim
    )
