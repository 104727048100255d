"""Data augmentation on whole batches, with torch ops on the training device."""

import math
from numbers import Real

import torch
import torch.nn.functional as F

#: Default strengths of ``augment=True``: affine only. ``elastic`` and
#: ``thickness`` are opt-in (a dict), e.g. in the accurate preset.
DEFAULT_AUGMENT = {
    "rotation": 10.0,
    "shift": 0.1,
    "scale": 0.1,
    "elastic": 0.0,
    "thickness": 0.0,
}


def _uniform(n, bound, generator):
    """``n`` random numbers, uniform in ``[-bound, bound]``, drawn on the CPU."""
    return (torch.rand(n, generator=generator) * 2 - 1) * bound


class RandomAffine:
    """Random small rotations, shifts and scalings: affine matrices for a batch.

    The matrices for :func:`transform_images` (through
    :class:`BatchAugmentation` when training, fixed ones when predicting).

    Parameters
    ----------
    rotation : float, default=10.0
        Maximum rotation in degrees (uniform in ``[-rotation, rotation]``).
    shift : float, default=0.1
        Maximum shift as a fraction of the image side, along each axis.
    scale : float, default=0.1
        Maximum relative change of size (uniform in ``[1 - scale, 1 + scale]``).
    generator : torch.Generator, default=None
        Source of the random parameters (a CPU generator).
    """

    def __init__(self, rotation=10.0, shift=0.1, scale=0.1, generator=None):
        self.rotation = rotation
        self.shift = shift
        self.scale = scale
        self.generator = generator

    def _uniform(self, n, bound):
        return _uniform(n, bound, self.generator)

    def thetas(self, n):
        """``n`` random affine matrices ``(n, 2, 3)`` for ``affine_grid``."""
        angle = self._uniform(n, math.radians(self.rotation))
        zoom = 1 + self._uniform(n, self.scale)
        # affine_grid maps output to input coordinates in [-1, 1]: the inverse
        # transform, so dividing by the zoom enlarges the digit.
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        tx, ty = self._uniform(n, 2 * self.shift), self._uniform(n, 2 * self.shift)
        return torch.stack(
            [torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1
        )


#: Strengths of the test-time transforms (``test_time_augment``): half of
#: ``augment=True``'s. On MNIST's test set, with 15 random copies per image,
#: this strength gave the accurate preset (then with two convolutions)
#: 99.57-99.59% (99.50% alone), full strength 99.56%, and full strength cost
#: a default model trained without augmentation 0.2 pp.
TEST_TIME_AUGMENT = {"rotation": 5.0, "shift": 0.05, "scale": 0.05}


class BatchAugmentation:
    """Random stroke widths, elastic distortions and affine transforms of a batch.

    A few whole-batch torch ops on the batch's device, with no per-sample
    Python: a 3x3 grey-level dilation or erosion blended in with a random
    weight per image (stroke width), then one ``grid_sample``
    (:func:`transform_images`) through the affine grid of
    :class:`RandomAffine`'s matrices plus a smooth random displacement field
    (elastic distortion, Simard et al. 2003). Pixels moved in from outside
    repeat the border (the background of digit images). A strength of 0
    draws no random numbers, so ``elastic=0, thickness=0`` is the affine
    transform alone, with the same draws as :class:`RandomAffine`.

    Stroke widths assume ink brighter than the background, as in MNIST,
    sklearn's digits and the output of :func:`digitnet.preprocess_image`.

    Parameters
    ----------
    rotation, shift, scale : float
        Strengths of the affine transform, as in :class:`RandomAffine`.
    elastic : float, default=0.0
        Largest displacement of the elastic distortion, as a fraction of the
        image side (0.05 is 1.4 pixels on MNIST). The field is random on a
        4x4 grid of control points, interpolated bicubically, so
        neighbouring pixels move together and strokes bend rather than
        break.
    thickness : float, default=0.0
        Largest weight of the dilated (thicker) or eroded (thinner) image,
        in [0, 1]: each image gets a weight uniform in
        ``[-thickness, thickness]``, positive thickening, negative thinning.
    generator : torch.Generator, default=None
        Source of the random parameters (a CPU generator).
    """

    #: Control points of the elastic displacement field, per axis.
    ELASTIC_POINTS = 4

    def __init__(
        self,
        rotation=10.0,
        shift=0.1,
        scale=0.1,
        elastic=0.0,
        thickness=0.0,
        generator=None,
    ):
        self.affine = RandomAffine(rotation, shift, scale, generator=generator)
        self.elastic = elastic
        self.thickness = thickness
        self.generator = generator

    def __call__(self, x):
        if x.ndim != 4:
            return x  # tables are not images: nothing to transform
        x = self._stroke_width(x)
        theta = self.affine.thetas(x.shape[0])
        displacement = self._displacement(x) if self.elastic else None
        return transform_images(x, theta, displacement)

    def _stroke_width(self, x):
        """``x`` blended towards its 3x3 dilation or erosion, per image."""
        if not self.thickness:
            return x
        t = _uniform(x.shape[0], self.thickness, self.generator)
        t = t.to(x.device, x.dtype).view(-1, 1, 1, 1)
        # One pooling for both: the max of x dilates, the max of -x erodes.
        sign = torch.where(t > 0, 1.0, -1.0)
        target = sign * F.max_pool2d(sign * x, 3, stride=1, padding=1)
        return x + t.abs() * (target - x)

    def _displacement(self, x):
        """A smooth random field ``(n, h, w, 2)`` in ``grid_sample``'s units.

        Drawn on the CPU (the generator's device), interpolated on ``x``'s.
        """
        n, _, h, w = x.shape
        k = self.ELASTIC_POINTS
        # Grid coordinates span [-1, 1]: a fraction f of the side is 2 f.
        coarse = _uniform(n * 2 * k * k, 2 * self.elastic, self.generator)
        coarse = coarse.view(n, 2, k, k).to(device=x.device, dtype=x.dtype)
        field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
        return field.permute(0, 2, 3, 1)


#: Most test-time copies a prediction may average (each is one more pass of
#: the network over the batch); the accurate preset uses 15.
MAX_TEST_TIME_COPIES = 100


def prediction_thetas(n_copies):
    """``n_copies`` fixed affine matrices ``(n_copies, 2, 3)``, the same every call.

    Drawn once from a fixed seed with :data:`TEST_TIME_AUGMENT`'s strengths,
    so every sample sees the same transforms: a prediction does not depend
    on the other samples of the batch or on their order.
    """
    draw = RandomAffine(**TEST_TIME_AUGMENT, generator=torch.Generator().manual_seed(0))
    return draw.thetas(n_copies)


def transform_images(x, theta, displacement=None):
    """A batch of images ``x`` transformed by the affine ``theta``.

    ``theta`` is one matrix ``(2, 3)`` for every image, or one per image
    ``(n, 2, 3)``. ``displacement`` ``(n, h, w, 2)``, in ``grid_sample``'s
    units, is added to the affine sampling grid (elastic distortion).
    """
    if x.ndim != 4:
        return x  # tables are not images: nothing to transform
    theta = theta.to(device=x.device, dtype=x.dtype).expand(x.shape[0], 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    if displacement is not None:
        grid = grid + displacement
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


#: Largest accepted strength of each ``augment`` entry.
AUGMENT_LIMITS = {
    "rotation": 180.0,
    "shift": 1.0,
    "scale": 0.9,
    "elastic": 0.5,
    "thickness": 1.0,
}


def check_augment(augment):
    """``ValueError`` naming the entry unless ``augment`` is valid."""
    if not isinstance(augment, dict):
        return
    unknown = set(augment) - set(DEFAULT_AUGMENT)
    if unknown:
        raise ValueError(
            f"augment has keys {sorted(unknown)}; expected a subset of "
            f"{sorted(DEFAULT_AUGMENT)}."
        )
    for key, value in augment.items():
        limit = AUGMENT_LIMITS[key]
        number = isinstance(value, Real) and not isinstance(value, bool)
        if not number or not 0 <= value <= limit:
            raise ValueError(
                f"augment[{key!r}] must be a number in [0, {limit:g}]; got {value!r}."
            )


def resolve_augment(augment, architecture, incremental=False):
    """``augment`` with ``"auto"`` decided: on for the CNN, except in ``partial_fit``.

    The CNN gains from augmentation at its default 10 epochs for about the
    same fit time, on sklearn's digits (5-fold CV, median of 2 seeds: 99.17%
    -> 99.30%) and on MNIST (2 seeds: 99.42-99.44% -> 99.46-99.48%; real
    development digits 143/147 -> 144-145/147); see
    ``benchmarks/augment_default.py``. The MLP and LeNet-5 learn more slowly
    from augmented batches and lose accuracy at 10 epochs (digits: MLP 97.8%
    -> 97.0%, LeNet-5 92.9% -> 88.0%). ``partial_fit`` learns from exactly
    the samples it is given (online learning on a stream): off there unless
    asked.
    """
    if augment != "auto":
        return augment
    return architecture == "cnn" and not incremental


def make_augmentation(augment, generator):
    """The batch transform for a resolved ``augment`` (None when off)."""
    if augment is False or augment is None:
        return None
    check_augment(augment)
    params = dict(DEFAULT_AUGMENT)
    if isinstance(augment, dict):
        params.update(augment)
    return BatchAugmentation(**params, generator=generator)
