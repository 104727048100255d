"""The Starlette application of ``digitnet serve``.

``POST /predict`` takes multipart/form-data with one or more ``file`` fields
(images, preprocessed as by ``digitnet predict``) or a JSON body ``{"pixels":
[[...], ...]}`` of raw pixel rows, and answers ``{"predictions": [{"label",
"probability", "top3"}, ...]}``. An image or row without ink is answered
``{"label": null, "no_ink": true, "message": ...}`` instead of a guess. Bodies
over the size limit get 413 (the rest of the body is read and dropped, up to
a bound, so that a client that sends before it reads still gets the answer);
a body that does not arrive within ``read_timeout`` seconds gets 408; input
the model cannot take gets 422 with the library's message; other content types
415.

``POST /read`` takes the same multipart uploads and answers ``{"readings":
[{"file", "text", "flagged", "lines"}, ...]}``: each image read as a page
by :func:`~digitnet.read_digits` (lines, numbers, digits with their boxes
and probabilities), or ``{"file", "text": null, "no_ink": true, "message"}``
for an image without digit-sized ink; the same limits and errors apply.
Inference runs in worker threads
(one at a time: the model's own threads do the parallel work), so the event
loop keeps accepting requests.
"""

import asyncio
import json
import threading
from importlib import resources

import numpy as np

from .._plain import builtin
from .._version import __version__
from ..exceptions import BlankImageError
from ..images import preprocess_image
from ..reading import read_digits

#: Largest request body accepted, in bytes (10 MB).
DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024
#: Seconds a client may take to send a request body.
DEFAULT_READ_TIMEOUT = 30.0
#: An oversized body is read and dropped up to this many bytes (or 4 times
#: the limit, if more) before the 413 is sent; beyond that the connection is
#: closed and a client still sending may see it reset instead.
_DRAIN_BYTES = 64 * 1024 * 1024
_TOP = 3


def _starlette():
    try:
        import starlette  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "digitnet serve needs Starlette and uvicorn; install the serve extra: "
            "pip install 'digitnet[serve]'"
        ) from exc


class Answerer:
    """Predictions as JSON-ready dicts from a model with ``predict_proba``.

    ``model`` is a :class:`~digitnet.DigitClassifier` or an
    :class:`~digitnet.OnnxModel`; both have ``classes_``, ``input_shape_``
    and ``n_features_in_``.
    """

    def __init__(self, model):
        self.model = model
        self.classes = [builtin(c) for c in model.classes_]
        self._lock = threading.Lock()

    def describe(self, backend):
        return {
            "classes": self.classes,
            "input_shape": list(self.model.input_shape_),
            "n_features": int(self.model.n_features_in_),
            "backend": backend,
            "digitnet_version": __version__,
        }

    def _entry(self, proba):
        order = np.argsort(-proba, kind="stable")[:_TOP]
        return {
            "label": self.classes[order[0]],
            "probability": float(proba[order[0]]),
            "top3": [[self.classes[i], float(proba[i])] for i in order],
        }

    def rows(self, rows):
        """Answers for a 2-D array of pixel rows (rows without ink: no_ink)."""
        with self._lock:
            proba = np.asarray(self.model.predict_proba(rows), dtype=np.float64)
        blank = rows.max(axis=1) == rows.min(axis=1)
        return [
            _no_ink("the pixels hold no ink (all values are equal)")
            if is_blank
            else self._entry(p)
            for p, is_blank in zip(proba, blank, strict=True)
        ]

    def images(self, images):
        """Answers for ``[(name, bytes), ...]``; unreadable images: ValueError."""
        features, answers = [], []
        for name, data in images:
            try:
                features.append(preprocess_image(data, self.model.input_shape_))
                answers.append(None)
            except BlankImageError as exc:
                answers.append(_no_ink(str(exc)))
            except ValueError as exc:
                raise ValueError(f"file {name!r}: {exc}") from exc
        if features:
            found = iter(self.rows(np.stack(features)))
            answers = [a if a is not None else next(found) for a in answers]
        return answers

    def read(self, images, min_confidence=None):
        """Page readings for ``[(name, bytes), ...]``; unreadable: ValueError."""
        answers = []
        for name, data in images:
            try:
                with self._lock:
                    reading = read_digits(
                        self.model, data, min_confidence=min_confidence
                    )
                answers.append({"file": name, **reading.to_dict()})
            except BlankImageError as exc:
                answers.append(
                    {"file": name, "text": None, "no_ink": True, "message": str(exc)}
                )
            except ValueError as exc:
                raise ValueError(f"file {name!r}: {exc}") from exc
        return answers


def _no_ink(message):
    return {
        "label": None,
        "probability": None,
        "top3": [],
        "no_ink": True,
        "message": message,
    }


def _rows_from_json(body):
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValueError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or "pixels" not in data:
        raise ValueError('the JSON body must be an object {"pixels": [[...], ...]}')
    pixels = data["pixels"]
    if not isinstance(pixels, list) or not all(isinstance(r, list) for r in pixels):
        raise ValueError('"pixels" must be a list of pixel rows (lists of numbers)')
    if not pixels:
        raise ValueError('"pixels" holds no rows')
    try:
        rows = np.array(pixels, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            '"pixels" must be rows of numbers, all of the same length'
        ) from exc
    if rows.ndim != 2:
        raise ValueError('"pixels" must be rows of numbers, all of the same length')
    return rows


class _TooLarge(Exception):
    pass


async def _drain(stream, budget):
    """Read and drop the rest of a body, up to ``budget`` bytes."""
    async for chunk in stream:
        budget -= len(chunk)
        if budget < 0:
            return


async def _read_body(request, limit):
    """The body, or ``_TooLarge`` once it passes ``limit`` (after draining)."""
    stream = request.stream()
    chunks, size = [], 0
    declared = request.headers.get("content-length")
    too_large = declared is not None and declared.isdigit() and int(declared) > limit
    if not too_large:
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                too_large = True
                break
            chunks.append(chunk)
    if too_large:
        await _drain(stream, max(_DRAIN_BYTES, 4 * limit))
        raise _TooLarge
    return b"".join(chunks)


async def _images_from_form(request, body, limit):
    from starlette.requests import Request

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=1000, max_fields=1000, max_part_size=limit
    )
    try:
        files = [f for f in form.getlist("file") if hasattr(f, "read")]
        if not files:
            raise ValueError("the form holds no 'file' field with an image")
        return [(f.filename or "file", await f.read()) for f in files]
    finally:
        await form.close()


def _error(status, message, headers=None):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _body(request, limit, read_timeout):
    """``(body, None)``, or ``(None, error response)`` for 413 and 408."""
    try:
        return await asyncio.wait_for(_read_body(request, limit), read_timeout), None
    except _TooLarge:
        return None, _error(
            413,
            f"the request body is over the limit of {limit} bytes",
            headers={"connection": "close"},
        )
    except asyncio.TimeoutError:  # TimeoutError from Python 3.11
        return None, _error(
            408,
            f"the request body did not arrive within {read_timeout:g} s",
            headers={"connection": "close"},
        )


def _content_type(request):
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _upload_endpoint(route, takes, kinds, answer, limit, read_timeout):
    """A POST endpoint: content type checked, body read within the limits.

    ``answer(request, kind, body)`` is a coroutine returning the JSON answer;
    a ValueError it raises (input the model cannot take) is a 422 with its
    message, a malformed multipart body the status Starlette gives it.
    """
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse

    async def endpoint(request):
        kind = _content_type(request)
        if kind not in kinds:
            return _error(
                415, f"POST /{route} takes {takes}, not {kind or 'no content type'}"
            )
        body, refused = await _body(request, limit, read_timeout)
        if refused is not None:
            return refused
        try:
            return JSONResponse(await answer(request, kind, body))
        except ValueError as exc:
            return _error(422, str(exc))
        except HTTPException as exc:  # a malformed multipart body
            return _error(exc.status_code, str(exc.detail))

    return endpoint


def _predict_endpoint(answerer, limit, read_timeout):
    from starlette.concurrency import run_in_threadpool

    async def predict(request, kind, body):
        if kind == "application/json":
            rows = _rows_from_json(body)
            return {"predictions": await run_in_threadpool(answerer.rows, rows)}
        images = await _images_from_form(request, body, limit)
        return {"predictions": await run_in_threadpool(answerer.images, images)}

    takes = "multipart/form-data with 'file' fields or application/json with pixel rows"
    kinds = ("multipart/form-data", "application/json")
    return _upload_endpoint("predict", takes, kinds, predict, limit, read_timeout)


def _min_confidence(request):
    """The ``min_confidence`` query parameter, or None; bad: ValueError."""
    text = request.query_params.get("min_confidence")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"min_confidence must be a probability in [0, 1], not {text!r}"
        )
    return value


def _read_endpoint(answerer, limit, read_timeout):
    from starlette.concurrency import run_in_threadpool

    async def read(request, kind, body):
        min_confidence = _min_confidence(request)
        images = await _images_from_form(request, body, limit)
        readings = await run_in_threadpool(answerer.read, images, min_confidence)
        return {"readings": readings}

    takes = "multipart/form-data with 'file' fields"
    kinds = ("multipart/form-data",)
    return _upload_endpoint("read", takes, kinds, read, limit, read_timeout)


def create_app(
    model,
    *,
    backend=None,
    max_upload_bytes=DEFAULT_MAX_UPLOAD,
    read_timeout=DEFAULT_READ_TIMEOUT,
):
    """The ASGI application serving ``model``; run it with uvicorn.

    Parameters
    ----------
    model : DigitClassifier or OnnxModel
        A fitted model (``predict_proba``, ``classes_``, ``input_shape_``).
    backend : str, default=None
        Name reported by ``GET /model``; by default ``"onnx"`` for an
        :class:`~digitnet.OnnxModel` and ``"torch"`` otherwise.
    max_upload_bytes : int, default=10 MB
        Largest request body; larger ones are answered 413.
    read_timeout : float, default=30.0
        Seconds a client may take to send a request body; slower ones are
        answered 408.

    Returns
    -------
    app : starlette.applications.Starlette

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from starlette.testclient import TestClient
    >>> import digitnet
    >>> from digitnet.serve import create_app
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = digitnet.DigitClassifier(max_iter=2, random_state=0).fit(X, y)
    >>> client = TestClient(create_app(clf))
    >>> answer = client.post("/predict", json={"pixels": X[:2].tolist()}).json()
    >>> [p["label"] for p in answer["predictions"]] == clf.predict(X[:2]).tolist()
    True
    """
    _starlette()
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from .._onnx import OnnxModel

    if backend is None:
        backend = "onnx" if isinstance(model, OnnxModel) else "torch"
    answerer = Answerer(model)
    page = resources.files(__package__).joinpath("page.html").read_text("utf-8")
    description = answerer.describe(backend)

    async def index(request):
        return HTMLResponse(page)

    async def health(request):
        return JSONResponse({"status": "ok"})

    async def describe(request):
        return JSONResponse(description)

    async def server_error(request, exc):
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    routes = [
        Route("/", index),
        Route("/health", health),
        Route("/model", describe),
        Route(
            "/predict",
            _predict_endpoint(answerer, max_upload_bytes, read_timeout),
            methods=["POST"],
        ),
        Route(
            "/read",
            _read_endpoint(answerer, max_upload_bytes, read_timeout),
            methods=["POST"],
        ),
    ]
    return Starlette(routes=routes, exception_handlers={Exception: server_error})
