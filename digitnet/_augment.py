"""Data augmentation on whole batches, with torch ops on the training device."""

import math
from numbers import Real

import torch
import torch.nn.functional as F

#: Default strengths of ``augment=True``: affine only. ``elastic``,
#: ``thickness``, ``stretch`` and ``resolution`` are opt-in (a dict), e.g. in
#: the accurate preset.
DEFAULT_AUGMENT = {
    "rotation": 10.0,
    "shift": 0.1,
    "scale": 0.1,
    "elastic": 0.0,
    "thickness": 0.0,
    "stretch": 0.0,
    "resolution": 0.0,
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
    stretch : float, default=0.0
        Share of the images, in [0, 1], stretched along one axis so that
        their ink fills a square box (a narrow 1 becomes as wide as it is
        tall), as digits cropped and resized to fill a square frame are.
    resolution : float, default=0.0
        Share of the images, in [0, 1], seen at a low resolution: reduced to
        8-14 pixels a side (area averaging) and enlarged back (bilinear), as
        a digit captured in a few pixels and enlarged is. One size per batch.
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
        stretch=0.0,
        resolution=0.0,
        generator=None,
    ):
        self.affine = RandomAffine(rotation, shift, scale, generator=generator)
        self.elastic = elastic
        self.thickness = thickness
        self.stretch = stretch
        self.resolution = resolution
        self.generator = generator

    def __call__(self, x):
        if x.ndim != 4:
            return x  # tables are not images: nothing to transform
        x = self._stroke_width(x)
        theta = self.affine.thetas(x.shape[0])
        if self.stretch:
            theta = _compose(self._fill(x), theta.to(x.device, x.dtype))
        displacement = self._displacement(x) if self.elastic else None
        x = transform_images(x, theta, displacement)
        return self._low_resolution(x) if self.resolution else x

    def _chosen(self, n, share):
        """Which of ``n`` images (a CPU bool tensor) a transform applied to
        ``share`` of them takes."""
        return torch.rand(n, generator=self.generator) < share

    def _fill(self, x):
        """Affine matrices ``(n, 2, 3)``, on ``x``'s device, that stretch the
        chosen images' ink box along its shorter side into a square, centred."""
        n, _, h, w = x.shape
        chosen = self._chosen(n, self.stretch).to(x.device)
        ink = x[:, 0] > 0.5 * x.amax(dim=(1, 2, 3)).view(-1, 1, 1)
        rows, cols = ink.any(dim=2), ink.any(dim=1)
        top, bottom = _first(rows), h - 1 - _first(rows.flip(1))
        left, right = _first(cols), w - 1 - _first(cols.flip(1))
        height = (bottom - top + 1).to(x.dtype) / h
        width = (right - left + 1).to(x.dtype) / w
        chosen &= ink.flatten(1).any(dim=1)
        # affine_grid maps output to input coordinates in [-1, 1]: the input
        # x of an output x is centre + x * width / side.
        side = torch.maximum(height, width)
        one, zero = torch.ones_like(side), torch.zeros_like(side)
        sx = torch.where(chosen, width / side, one)
        sy = torch.where(chosen, height / side, one)
        cx = torch.where(chosen, (left + right + 1).to(x.dtype) / w - 1, zero)
        cy = torch.where(chosen, (top + bottom + 1).to(x.dtype) / h - 1, zero)
        return torch.stack(
            [torch.stack([sx, zero, cx], 1), torch.stack([zero, sy, cy], 1)], 1
        )

    def _low_resolution(self, x):
        """The chosen images reduced to 8-14 pixels a side and enlarged back."""
        n, _, h, w = x.shape
        chosen = self._chosen(n, self.resolution)
        side = int(torch.randint(8, 15, (1,), generator=self.generator))
        if not chosen.any() or min(h, w) <= side:
            return x
        small = F.interpolate(x, size=(side, side), mode="area")
        blurred = F.interpolate(small, size=(h, w), mode="bilinear")
        keep = chosen.to(x.device).view(-1, 1, 1, 1)
        return torch.where(keep, blurred, x)

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


def _first(mask):
    """Index of the first True of each row of a 2-D bool tensor (0 if none)."""
    return mask.int().argmax(dim=1)


def _compose(outer, inner):
    """Affine matrices ``(n, 2, 3)`` applying ``inner`` then ``outer`` to
    output coordinates (``affine_grid``'s output-to-input maps)."""
    linear = outer[:, :, :2] @ inner[:, :, :2]
    shift = outer[:, :, :2] @ inner[:, :, 2:] + outer[:, :, 2:]
    return torch.cat([linear, shift], dim=2)


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
    "stretch": 1.0,
    "resolution": 1.0,
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
