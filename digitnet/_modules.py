"""PyTorch modules shipped with digitnet and the factory that builds them.

Every module maps a batch to raw class scores (logits) of shape
``(batch, n_classes)``. Image modules take ``(batch, channels, height, width)``;
:class:`MLP` takes anything and flattens it.
"""

import contextlib
import inspect
import math
import threading
from numbers import Integral

import torch
from torch import nn

__all__ = ["ARCHITECTURES", "CNN", "MLP", "Dropout", "LeNet5", "build_module"]

ACTIVATIONS = {
    "identity": nn.Identity,
    "logistic": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
}


class Dropout(nn.Dropout):
    """``nn.Dropout`` whose masks come from a private generator when it has one.

    digitnet gives each training run its own ``torch.Generator`` (attribute
    ``generator``), so fits running side by side in threads draw independent,
    reproducible masks instead of sharing torch's global random state. Without
    a generator it is exactly ``nn.Dropout``.

    Examples
    --------
    >>> import torch
    >>> from digitnet import Dropout
    >>> layer = Dropout(0.5)
    >>> layer.generator = torch.Generator().manual_seed(0)
    >>> layer(torch.ones(2, 4)).shape
    torch.Size([2, 4])
    """

    generator = None

    def forward(self, x):
        if not self.training or self.p == 0 or self.generator is None:
            return super().forward(x)
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)
        return x * mask.div_(keep)

    def __getstate__(self):
        state = super().__getstate__().copy()
        state.pop("generator", None)  # generators belong to a run, not a model
        return state


def _dense_head(n_in, hidden_layer_sizes, n_classes, activation, dropout):
    layers = []
    for width in hidden_layer_sizes:
        layers += [nn.Linear(n_in, width), ACTIVATIONS[activation]()]
        if dropout:
            layers.append(Dropout(dropout))
        n_in = width
    layers.append(nn.Linear(n_in, n_classes))
    return nn.Sequential(*layers)


def _pool(height, width):
    """2x2 max-pool, halving only the dimensions that have 2 pixels or more."""
    kernel = (2 if height >= 2 else 1, 2 if width >= 2 else 1)
    return nn.MaxPool2d(kernel), (height // kernel[0], width // kernel[1])


def _n_flat(features, input_shape, name):
    """Number of values ``features`` produces for one input of ``input_shape``."""
    features.eval()  # batch norm cannot run one sample in training mode
    try:
        with torch.no_grad():
            out = features(torch.zeros(1, *input_shape))
    except RuntimeError as exc:
        raise ValueError(
            f"architecture={name!r} cannot process images of shape "
            f"{tuple(input_shape)}: {exc}. Use larger images or architecture='mlp'."
        ) from exc
    finally:
        features.train()
    return out.shape[1]


class MLP(nn.Module):
    """Fully connected network: flatten, hidden layers, linear output.

    Parameters
    ----------
    n_features : int
        Number of input values per sample (after flattening).
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(512, 256)
        Width of each hidden layer.
    activation : {"identity", "logistic", "tanh", "relu", "gelu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from digitnet import MLP
    >>> MLP(n_features=64, n_classes=10)(torch.zeros(2, 64)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        n_features,
        n_classes,
        hidden_layer_sizes=(512, 256),
        activation="relu",
        dropout=0.0,
    ):
        super().__init__()
        self.flatten = nn.Flatten()
        self.head = _dense_head(
            n_features, hidden_layer_sizes, n_classes, activation, dropout
        )

    def forward(self, x):
        return self.head(self.flatten(x))


class _ConvNet(nn.Module):
    """``features`` then ``head``, in the memory layout chosen at construction."""

    def _set_layout(self, channels_last):
        self.channels_last = channels_last
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x):
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.head(self.features(x))


def _positive_ints(value, name, single=False):
    """``value`` as a tuple of positive ints (one if ``single``), else a
    ``ValueError`` naming ``name``."""
    values = (value,) if single else value
    ok = not isinstance(values, (str, bytes))
    try:
        values = tuple(values)
    except TypeError:
        ok = False
    ok = ok and len(values) >= 1
    ok = ok and all(
        isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in values
    )
    if not ok:
        what = "a positive int" if single else "a sequence of positive ints"
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return tuple(int(v) for v in values)


class CNN(_ConvNet):
    """Convolutional network: conv blocks, max-pooling, a dense head.

    Each block is a same-padded convolution, an optional 2x2 max-pool, batch
    normalisation and the activation. A block pools while its feature map is at
    least 16 pixels wide, and the last block always pools, so 28x28 inputs are
    reduced to 7x7 and 8x8 inputs to 4x4. Pooling halves only dimensions of 2
    pixels or more, so ``1 x n`` strips (table rows) work too. Dropout follows
    the convolutional part and every dense hidden layer.

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of one image.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(128,)
        Width of each dense hidden layer.
    activation : {"identity", "logistic", "tanh", "relu", "gelu"}, default="relu"
        Non-linearity after each convolution and dense hidden layer.
    dropout : float, default=0.25
        Dropout probability.
    channels : tuple of int, default=(32, 64)
        Number of filters of each convolutional block.
    kernel_size : int, default=3
        Side of the square convolution kernels (odd).
    stem_stride : int, default=1
        Stride of the first convolution. 2 halves the resolution at once
        instead of convolving and pooling at full resolution: about twice as
        fast on 28x28 images, for a little accuracy.
    pool : tuple of bool, default=None
        Which blocks end with a 2x2 max-pool, one entry per block. None applies
        the rule above (pool while the feature map is at least 16 pixels wide,
        and in the last block). ``channels=(32, 64, 64), pool=(True, True,
        False)`` adds a third convolution at 7x7 on MNIST, for little cost.
    channels_last : bool, default=True
        Keep the convolution weights and the feature maps in the channels-last
        (NHWC) memory layout, the native layout of oneDNN's CPU kernels: on a
        2-core CPU, MNIST training steps run about 1.6x and prediction about
        3x faster than with the NCHW layout (``benchmarks/memory_format.py``).
        Outputs agree up to float rounding and the weights' values
        (``state_dict``) do not depend on the layout; dropout masks are drawn
        in memory order, so training's random stream differs between layouts.

    Examples
    --------
    >>> import torch
    >>> from digitnet import CNN
    >>> CNN(input_shape=(1, 28, 28), n_classes=10)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        input_shape,
        n_classes,
        hidden_layer_sizes=(128,),
        activation="relu",
        dropout=0.25,
        channels=(32, 64),
        kernel_size=3,
        stem_stride=1,
        pool=None,
        channels_last=True,
    ):
        super().__init__()
        channels = _positive_ints(channels, "channels")
        (kernel_size,) = _positive_ints(kernel_size, "kernel_size", single=True)
        (stem_stride,) = _positive_ints(stem_stride, "stem_stride", single=True)
        if pool is not None and len(pool) != len(channels):
            raise ValueError(
                f"pool needs one entry per convolutional block ({len(channels)} "
                f"for channels={tuple(channels)}), got {tuple(pool)}."
            )
        in_channels, height, width = input_shape
        layers = []
        for i, out_channels in enumerate(channels):
            stride = stem_stride if i == 0 else 1
            layers.append(
                nn.Conv2d(
                    in_channels,
                    out_channels,
                    kernel_size,
                    stride=stride,
                    padding=kernel_size // 2,
                    bias=False,
                )
            )
            height, width = -(-height // stride), -(-width // stride)
            if pool is not None:
                pools = pool[i]
            elif stride > 1 and i < len(channels) - 1:
                pools = False  # the strided stem already reduced the resolution
            else:
                pools = min(height, width) >= 16 or i == len(channels) - 1
            if pools:
                # Pooling before normalisation: 4x less work for batch norm.
                pool_layer, (height, width) = _pool(height, width)
                layers.append(pool_layer)
            layers += [nn.BatchNorm2d(out_channels), ACTIVATIONS[activation]()]
            in_channels = out_channels
        if dropout:
            layers.append(Dropout(dropout))
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        n_flat = _n_flat(self.features, input_shape, "cnn")
        self.head = _dense_head(
            n_flat, hidden_layer_sizes, n_classes, activation, dropout
        )
        self._set_layout(channels_last)


class LeNet5(_ConvNet):
    """LeNet-5 (LeCun et al., 1998): 6@5x5 and 16@5x5 convolutions, 120 and 84.

    The first convolution is padded by 2 (28x28 MNIST images then see the
    original 32x32 geometry); the second is padded only when the feature map is
    too small for an unpadded 5x5 kernel, as for 8x8 inputs. Subsampling layers
    are 2x2 max-pools (halving only dimensions of 2 pixels or more).

    Parameters
    ----------
    input_shape : tuple of int
        ``(channels, height, width)`` of one image.
    n_classes : int
        Number of output logits.
    hidden_layer_sizes : tuple of int, default=(120, 84)
        Width of each dense hidden layer.
    activation : {"identity", "logistic", "tanh", "relu", "gelu"}, default="relu"
        Non-linearity after each convolution and dense hidden layer.
    dropout : float, default=0.0
        Dropout probability after each dense hidden layer.
    channels_last : bool, default=True
        Keep the convolution weights and the feature maps in the channels-last
        (NHWC) memory layout (see :class:`CNN`).

    Examples
    --------
    >>> import torch
    >>> from digitnet import LeNet5
    >>> LeNet5(input_shape=(1, 28, 28), n_classes=10)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """

    def __init__(
        self,
        input_shape,
        n_classes,
        hidden_layer_sizes=(120, 84),
        activation="relu",
        dropout=0.0,
        channels_last=True,
    ):
        super().__init__()
        in_channels, height, width = input_shape
        pool1, (height, width) = _pool(height, width)
        pad2 = 0 if min(height, width) >= 10 else 2
        pool2, _ = _pool(height + 2 * pad2 - 4, width + 2 * pad2 - 4)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2),
            ACTIVATIONS[activation](),
            pool1,
            nn.Conv2d(6, 16, 5, padding=pad2),
            ACTIVATIONS[activation](),
            pool2,
            nn.Flatten(),
        )
        n_flat = _n_flat(self.features, input_shape, "lenet5")
        self.head = _dense_head(
            n_flat, hidden_layer_sizes, n_classes, activation, dropout
        )
        self._set_layout(channels_last)


ARCHITECTURES = {"mlp": MLP, "cnn": CNN, "lenet5": LeNet5}


def _accepted(cls):
    params = inspect.signature(cls.__init__).parameters
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    return set(params) - {"self"}, has_var_kw


def check_layer_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a tuple of positive ints (``ValueError`` else)."""
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = None
    if sizes is None or not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(
            "The 'hidden_layer_sizes' parameter of DigitClassifier must be a "
            f"positive int or a sequence of positive ints; got {hidden_layer_sizes!r}."
        )
    return tuple(int(s) for s in sizes)


def _module_kwargs(cls, name, builtin, sizes, module_params):
    accepted, has_var_kw = _accepted(cls)
    kwargs = dict(builtin)
    for key, value in sizes.items():
        if has_var_kw or key in accepted:
            kwargs[key] = value
    if module_params is not None and not isinstance(module_params, dict):
        raise ValueError(
            "The 'module_params' parameter of DigitClassifier must be a dict of "
            f"keyword arguments for {name}; got {type(module_params).__name__}."
        )
    kwargs.update(module_params or {})
    unknown = set(kwargs) - accepted
    if unknown and not has_var_kw:
        raise ValueError(
            f"module_params has keys {sorted(unknown)} that {name} does not accept; "
            f"it accepts {sorted(accepted - {'self'})}."
        )
    return kwargs


#: Module construction may draw from torch's global generator (custom modules'
#: own initialisation); it runs seeded, one construction at a time.
_CONSTRUCTION = threading.Lock()


def _construct(cls, name, kwargs, seed):
    guard = _CONSTRUCTION if seed is not None else contextlib.nullcontext()
    with guard, torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.default_generator.manual_seed(seed)
        try:
            return cls(**kwargs)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(
                f"{name} could not be built from module_params and the data's "
                f"sizes ({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}): "
                f"{exc}"
            ) from exc


def build_module(
    architecture,
    *,
    input_shape,
    n_classes,
    hidden_layer_sizes,
    activation,
    dropout,
    module_params,
    seed=None,
):
    """Instantiate the module for ``architecture`` with data-derived sizes.

    Built-in architectures receive ``hidden_layer_sizes`` (when not None),
    ``activation`` and ``dropout``, then ``module_params``. A custom
    ``torch.nn.Module`` subclass receives those of ``n_features``,
    ``n_classes`` and ``input_shape`` its ``__init__`` names (all of them if it
    takes ``**kwargs``), then ``module_params``. With ``seed``, the weights are
    drawn from a private generator seeded with it (:func:`init_parameters`)
    and any ``nn.Dropout`` becomes a :class:`Dropout` that can take one.
    """
    sizes = {
        "n_features": math.prod(input_shape),
        "n_classes": n_classes,
        "input_shape": tuple(input_shape),
    }
    builtin = {}
    if isinstance(architecture, str):
        name, cls = architecture, ARCHITECTURES[architecture]
        builtin["activation"] = activation
        if dropout is not None:
            builtin["dropout"] = dropout
        if hidden_layer_sizes is not None:
            builtin["hidden_layer_sizes"] = check_layer_sizes(hidden_layer_sizes)
    else:
        cls, name = architecture, architecture.__name__
    kwargs = _module_kwargs(cls, name, builtin, sizes, module_params)
    module = _construct(cls, name, kwargs, seed)
    if not isinstance(module, nn.Module):
        raise ValueError(
            f"{name}(...) returned a {type(module).__name__}, not a Module"
        )
    use_private_dropout(module)
    if seed is not None:
        init_parameters(module, torch.Generator().manual_seed(seed))
    return module


def build_fitted_module(est, fitted_input, seed=None):
    """The module for ``est``'s parameters and a fitted input's sizes."""
    return build_module(
        fitted_input.architecture,
        input_shape=fitted_input.input_shape,
        n_classes=len(fitted_input.classes),
        hidden_layer_sizes=est.hidden_layer_sizes,
        activation=est.activation,
        dropout=est.dropout,
        module_params=est.module_params,
        seed=seed,
    )


def use_private_dropout(module):
    """Replace plain ``nn.Dropout`` layers of ``module`` by :class:`Dropout`."""
    for parent in module.modules():
        for child_name, child in parent.named_children():
            if type(child) is nn.Dropout:
                setattr(parent, child_name, Dropout(child.p, inplace=child.inplace))


def set_dropout_generator(module, generator):
    """Give every :class:`Dropout` of ``module`` ``generator`` (None: global)."""
    for layer in module.modules():
        if isinstance(layer, Dropout):
            layer.generator = generator


_RANDOM_INIT = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def init_parameters(module, generator):
    """Draw ``module``'s random weights from ``generator``, with torch's rules.

    Linear, convolution and embedding layers get torch's default
    initialisation (Kaiming-uniform weights, uniform biases; normal
    embeddings) from ``generator`` instead of the global random state.
    Normalisation layers are deterministic already. Other parameters keep the
    values their module's ``__init__`` gave them (drawn under a seeded,
    locked global state by :func:`build_module`).
    """
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, _RANDOM_INIT):
                weight = layer.weight
                nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
                if getattr(layer, "bias", None) is not None:
                    fan_in = weight.shape[1] * math.prod(weight.shape[2:])
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif isinstance(layer, nn.Embedding):
                nn.init.normal_(layer.weight, generator=generator)
                if layer.padding_idx is not None:
                    layer.weight[layer.padding_idx].fill_(0)
