"""``digitnet serve``'s server: no stalled client holds a connection for ever,
and a client sending an oversized body still reads the 413."""

import http.client
import socket
import time

import pytest
from sklearn.datasets import load_digits

from digitnet import DigitClassifier
from digitnet.serve import create_app
from digitnet.serve._server import server_config

from ._server import serving

LIMIT = 100_000
TIMEOUT = 1.0


@pytest.fixture(scope="module")
def port():
    X, y = load_digits(return_X_y=True)
    model = DigitClassifier(max_iter=1, random_state=0, architecture="mlp").fit(X, y)
    app = create_app(model, max_upload_bytes=LIMIT, read_timeout=TIMEOUT)
    config = server_config(
        app, host="127.0.0.1", port=0, log_level="warning", header_timeout=TIMEOUT
    )
    with serving(config) as port:
        yield port


def test_the_server_runs_uvicorns_h11_protocol_with_a_header_timer(port):
    """Fails loudly if uvicorn changes what HeaderTimeoutProtocol relies on."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    protocol = server_config(None, host="x", port=1).http
    assert issubclass(protocol, H11Protocol)
    for name in ("connection_made", "handle_events", "connection_lost", "cycle"):
        assert hasattr(H11Protocol, name) or name == "cycle"
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in sock.recv(4096)


def test_a_client_that_sends_before_it_reads_gets_the_413(port):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = b"x" * (16 << 20)  # more than the socket buffers hold
    connection.request(
        "POST", "/predict", body=body, headers={"content-type": "application/json"}
    )
    response = connection.getresponse()
    assert response.status == 413
    assert str(LIMIT).encode() in response.read()


def _closed_within(sock, seconds):
    """Whether the server closes ``sock`` within ``seconds`` (reading answers)."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except TimeoutError:
        return False, data
    return True, data


def test_a_body_that_stalls_gets_408_and_the_connection_closes(port):
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\ncontent-type: application/json"
            b'\r\ncontent-length: 100\r\n\r\n{"pixels"'
        )
        closed, answer = _closed_within(sock, TIMEOUT + 5)
    assert closed
    assert answer.startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize(
    "sent", [b"", b"POST /predict HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "half"]
)
def test_headers_that_never_complete_are_cut_off(port, sent):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(sent)
        closed, _ = _closed_within(sock, TIMEOUT + 5)
    assert closed
    assert time.monotonic() - start < TIMEOUT + 3
