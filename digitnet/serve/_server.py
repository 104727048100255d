"""How ``digitnet serve`` runs its application: uvicorn, with every wait bounded.

A client that stalls must not hold a connection for ever. The application
bounds the time to receive a request body (408, see :func:`create_app`);
uvicorn bounds idle keep-alive connections (``timeout_keep_alive``) and the
number of connections at once (``limit_concurrency``: beyond it, 503). What
uvicorn leaves open is a client that connects and never completes its request
line and headers: :class:`HeaderTimeoutProtocol` closes such a connection
after ``header_timeout`` seconds. It is the one place digitnet relies on
uvicorn beyond its documented options (a subclass of its h11 protocol, given
through the documented ``http=`` option); ``tests/test_serve_server.py``
fails loudly if uvicorn changes what it uses.
"""

import functools

#: Seconds a client may take to send a request line and headers.
HEADER_TIMEOUT = 10.0
#: Seconds an idle keep-alive connection stays open.
KEEP_ALIVE_TIMEOUT = 5
#: Connections served at once; more are answered 503.
CONCURRENCY = 64


def _h11_protocol():
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        """uvicorn's h11 protocol; a connection whose request headers do not
        arrive within ``header_timeout`` seconds is closed."""

        def __init__(self, *args, header_timeout=HEADER_TIMEOUT, **kwargs):
            super().__init__(*args, **kwargs)
            self.header_timeout = header_timeout
            self.header_timer_ = None

        def connection_made(self, transport):
            super().connection_made(transport)
            self.header_timer_ = self.loop.call_later(
                self.header_timeout, self._headers_late
            )

        def handle_events(self):
            super().handle_events()
            if self.cycle is not None and self.header_timer_ is not None:
                self.header_timer_.cancel()  # a request has begun
                self.header_timer_ = None

        def connection_lost(self, exc):
            if self.header_timer_ is not None:
                self.header_timer_.cancel()
                self.header_timer_ = None
            super().connection_lost(exc)

        def _headers_late(self):
            self.header_timer_ = None
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol


def server_config(app, *, host, port, log_level="info", header_timeout=None):
    """The ``uvicorn.Config`` that ``digitnet serve`` runs ``app`` with."""
    import uvicorn

    protocol = _h11_protocol()
    if header_timeout is not None:
        protocol = functools.partial(protocol, header_timeout=header_timeout)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http=protocol,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
        limit_concurrency=CONCURRENCY,
    )
