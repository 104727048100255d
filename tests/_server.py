"""A uvicorn server on a free loopback port, in a thread, for the tests that
talk to ``digitnet serve`` over real sockets."""

import contextlib
import threading
import time

import pytest


@contextlib.contextmanager
def serving(config):
    """Run ``uvicorn.Server(config)`` in a thread; yield its port; stop it."""
    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start within 30 s")
        time.sleep(0.05)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
