"""The one skorch protocol digitnet relies on beyond its documented API.

If one of these fails after a skorch upgrade, :mod:`digitnet._skorch_compat`
needs updating: GPU-trained pickles would otherwise stop loading on CPUs.
"""

import pickle

import torch
from skorch import NeuralNet

from digitnet._net import Net
from digitnet._skorch_compat import STATE_KEY, cpu_state


def test_skorch_still_names_its_device_bound_attributes():
    net = NeuralNet(module=torch.nn.Linear(3, 2), criterion=torch.nn.MSELoss)
    net.initialize()
    assert set(net.cuda_dependent_attributes_) >= {"module_", "optimizer_"}


def test_skorch_still_reads_the_blob_our_pickles_write():
    net = Net(module=torch.nn.Linear(3, 2), criterion=torch.nn.CrossEntropyLoss)
    net.initialize()
    state = cpu_state(net)
    assert STATE_KEY in state
    assert "module_" not in state
    restored = Net.__new__(Net)
    restored.__setstate__(pickle.loads(pickle.dumps(state)))
    assert torch.equal(restored.module_.weight, net.module_.weight)
    assert restored.device == "cpu"
