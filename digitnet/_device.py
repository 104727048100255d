"""Devices: which one a model trains and predicts on, inference batches, and
repeatable training on CUDA."""

import contextlib
import re
import threading
import warnings

import torch

_DEVICE_PATTERN = re.compile(r"(auto|cpu|mps|cuda(:\d+)?)")

#: Inference batch sizes. On the CPU, 256 rows measured fastest for the default
#: CNN on MNIST-sized images (``benchmarks/predict_batch_size.py``: cache-sized
#: batches). On an H100, 2,048 rows predict MNIST's test set at 200,000-350,000
#: images/s, up from 185,000-275,000 with 1,024; 4,096 was as fast or a little
#: faster, and larger batches no faster (``benchmarks/gpu.py``).
PREDICT_BATCH_SIZE = {"cpu": 256, "accelerator": 2048}


def inference_batch_size(device):
    """Rows per inference batch on ``device``."""
    return PREDICT_BATCH_SIZE["cpu" if device == "cpu" else "accelerator"]


def check_device_string(device):
    """``ValueError`` naming the parameter unless ``device`` is a device name."""
    if not isinstance(device, str) or not _DEVICE_PATTERN.fullmatch(device):
        raise ValueError(
            "The 'device' parameter of DigitClassifier must be 'auto', 'cpu', "
            f"'cuda', 'cuda:N' or 'mps'; got {device!r} instead."
        )


def available(device):
    """Whether this machine has ``device``."""
    kind = torch.device(device).type
    if kind == "cuda":
        index = torch.device(device).index or 0
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return True


def resolve_device(device):
    """Concrete torch device string for the ``device`` parameter.

    ``"auto"`` picks CUDA when a GPU is visible and the CPU otherwise. An
    explicit device that this machine lacks raises a ``ValueError``.
    """
    check_device_string(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not available(device):
        raise ValueError(
            f"device={device!r} was requested but is not available on this machine "
            f"(torch {torch.__version__}, CUDA available: "
            f"{torch.cuda.is_available()}). Use device='auto' or device='cpu'."
        )
    return device


def device_on_load(device, fitted_device):
    """Device a model fitted on ``fitted_device`` runs on where it is loaded.

    ``"auto"`` re-resolves on the loading machine; an explicit device that is
    missing there falls back to the CPU with a warning instead of failing.
    """
    if device == "auto":
        return resolve_device("auto")
    if available(fitted_device):
        return fitted_device
    warnings.warn(
        f"This DigitClassifier was fitted with device={device!r}, which is not "
        "available on this machine; it runs on the CPU instead. Set device='auto' "
        "to choose the best device wherever the model is loaded.",
        UserWarning,
        stacklevel=4,
    )
    return "cpu"


def place(net, device):
    """Move a trained net to ``device``, with that device's inference batches."""
    if net.device != device:
        net.move_to(device)
    net.iterator_valid__batch_size = inference_batch_size(device)


_cudnn_lock = threading.Lock()
_cudnn_users = 0
_cudnn_saved = None


@contextlib.contextmanager
def repeatable(device, enabled=True):
    """cuDNN's deterministic algorithms while a fit trains on CUDA.

    cuDNN may otherwise pick convolution algorithms that sum in a varying
    order, so two fits with the same ``random_state`` drift apart (on an H100,
    by up to 0.56 in a predicted probability after two epochs;
    ``benchmarks/gpu.py``). cuDNN's switches are process-wide: the first
    fit to enter sets them and the last to leave restores them, so fits in
    threads stay repeatable. A no-op off CUDA or when ``enabled`` is False.
    """
    global _cudnn_users, _cudnn_saved
    if not enabled or torch.device(device).type != "cuda":
        yield
        return
    cudnn = torch.backends.cudnn
    with _cudnn_lock:
        if _cudnn_users == 0:
            _cudnn_saved = (cudnn.deterministic, cudnn.benchmark)
            cudnn.deterministic, cudnn.benchmark = True, False
        _cudnn_users += 1
    try:
        yield
    finally:
        with _cudnn_lock:
            _cudnn_users -= 1
            if _cudnn_users == 0:
                cudnn.deterministic, cudnn.benchmark = _cudnn_saved
