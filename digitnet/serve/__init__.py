"""``digitnet serve``: a fitted model behind HTTP, with a drawing page.

:func:`create_app` builds the Starlette application (``POST /predict``,
``GET /health``, ``GET /model`` and the drawing page at ``/``); the command
runs it with uvicorn. Needs the ``serve`` extra (``pip install
'digitnet[serve]'``).
"""

from ._app import DEFAULT_MAX_UPLOAD, create_app

__all__ = ["DEFAULT_MAX_UPLOAD", "create_app"]
