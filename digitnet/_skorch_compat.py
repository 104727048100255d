"""The one place digitnet relies on skorch beyond its documented API.

skorch pickles a net's device-bound attributes (those named by
``NeuralNet.cuda_dependent_attributes_``) as one ``torch.save`` blob under the
state key ``"__cuda_dependent_attributes__"``, and its ``__setstate__`` reads
that blob back. :func:`cpu_state` writes the same blob with every tensor on the
CPU, and moves any tensor elsewhere in the net's state (a callback's counter or
weight snapshot) there too, so a model trained on a GPU unpickles on a machine
without one.
``tests/test_skorch_compat.py`` fails loudly if skorch changes this protocol.
"""

import io
import pickle
import tempfile

import torch

#: The state key skorch's ``NeuralNet.__setstate__`` reads the blob from.
STATE_KEY = "__cuda_dependent_attributes__"


def on_cpu(obj):
    """A copy of ``obj`` with every tensor inside it on the CPU."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, map_location="cpu", weights_only=False)


def cpu_state(net):
    """``net.__getstate__()`` with every tensor in it moved to the CPU.

    One copy of the whole state: the device-bound attributes and any tensor
    elsewhere (a callback's counter or weight snapshot).
    """
    state = on_cpu(net.__dict__.copy())
    prefixes = tuple(net.cuda_dependent_attributes_)
    attrs = {
        key: state.pop(key)
        for key in list(state)
        if isinstance(key, str) and key.startswith(prefixes)
    }
    with tempfile.SpooledTemporaryFile() as f:
        pickle.dump(attrs, f)
        f.seek(0)
        state[STATE_KEY] = f.read()
    state["device"] = "cpu"
    return state
