"""Repeatable training on CUDA: cuDNN's switches, set and restored."""

import threading

import pytest
import torch

from digitnet._device import repeatable


@pytest.fixture
def cudnn_flags():
    """cuDNN's switches as a test found them, restored afterwards."""
    cudnn = torch.backends.cudnn
    saved = cudnn.deterministic, cudnn.benchmark
    cudnn.deterministic, cudnn.benchmark = False, True
    yield cudnn
    cudnn.deterministic, cudnn.benchmark = saved


def test_repeatable_sets_cudnn_deterministic_and_restores_it(cudnn_flags):
    with repeatable("cuda"):
        assert cudnn_flags.deterministic is True
        assert cudnn_flags.benchmark is False
    assert (cudnn_flags.deterministic, cudnn_flags.benchmark) == (False, True)


@pytest.mark.parametrize(("device", "enabled"), [("cpu", True), ("cuda", False)])
def test_repeatable_leaves_cudnn_alone_off_cuda_or_unseeded(
    cudnn_flags, device, enabled
):
    with repeatable(device, enabled=enabled):
        assert (cudnn_flags.deterministic, cudnn_flags.benchmark) == (False, True)


def test_the_last_of_overlapping_fits_restores_the_switches(cudnn_flags):
    first_in, second_in, first_out = (threading.Event() for _ in range(3))
    seen = []

    def first():
        with repeatable("cuda:0"):
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with repeatable("cuda:0"):
            second_in.set()
            first_out.wait(5)
            seen.append(cudnn_flags.deterministic)  # the first one has left

    threads = [threading.Thread(target=f) for f in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [True]
    assert (cudnn_flags.deterministic, cudnn_flags.benchmark) == (False, True)


def test_repeatable_restores_the_switches_after_an_error(cudnn_flags):
    with pytest.raises(RuntimeError, match="boom"), repeatable("cuda"):
        raise RuntimeError("boom")
    assert (cudnn_flags.deterministic, cudnn_flags.benchmark) == (False, True)
