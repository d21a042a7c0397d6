"""A loopback HTTP server for download tests: serves bytes by path, honours Range, injects faults, logs requests.

Bounded: it answers at most `max_requests` requests (then 429) and shuts itself down after `lifetime` seconds, so a
test that goes wrong cannot hang the suite. Only 127.0.0.1 is used; nothing leaves the machine.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    range: str | None
    user_agent: str | None
    status: int = 0
    body_bytes: int = 0


@dataclass
class LoopbackServer:
    """`files`: {url path: bytes}. `faults`: {url path: [fault, ...]}, one fault consumed per request to that path:
    an int status (404, 503...), ("drop", n) to send the headers and only n body bytes then close, ("slow", s) to
    wait s seconds before answering, ("wrong", data) to serve other bytes, ("redirect", path) for a 302,
    ("delay_body", s) to wait s seconds after the headers, ("length", n) to announce Content-Length n (None: no
    Content-Length, the body ends when the connection closes), ("trickle", s) to send no Content-Length and then
    one byte every s seconds until the client leaves (or the server's lifetime ends), ("hold", event) to send the
    headers and hold the body until `event` is set, ("hold_until_retry", None) to hold the whole answer, or
    ("hold_body_until_retry", None) the body after the headers, until another request arrives (the client gave up
    and tried again): these wait on events, never on a guessed duration."""

    files: dict = field(default_factory=dict)
    faults: dict = field(default_factory=dict)
    max_requests: int = 200
    lifetime: float = 60.0
    requests: list = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.timer = threading.Timer(self.lifetime, self.httpd.shutdown)
        self.timer.daemon = True
        self.timer.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.timer.cancel()
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_for_request(self, count: int) -> None:
        """Block until the server has received `count` requests (or its lifetime ends)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, self.lifetime)

    def hits(self, path: str) -> list:
        return [request for request in self.requests if request.path == path]

    def _next_fault(self, path):
        with self.lock:
            queue = self.faults.get(path)
            return queue.pop(0) if queue else None


def _handler(server: LoopbackServer):
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that stops reading cannot hold a server thread for long

        def log_message(self, *args):
            pass

        def do_GET(self):
            record = Request(self.path, self.headers.get("Range"), self.headers.get("User-Agent"))
            with server.lock:
                server.requests.append(record)
                over, arrival = len(server.requests) > server.max_requests, len(server.requests)
                server.arrived.notify_all()
            fault = None if over else server._next_fault(self.path)
            data = server.files.get(self.path)
            if isinstance(fault, tuple) and fault[0] == "slow":
                time.sleep(fault[1])
            if isinstance(fault, tuple) and fault[0] == "hold_until_retry":
                server.wait_for_request(arrival + 1)
            if over or isinstance(fault, int) or data is None:
                record.status = 429 if over else fault if isinstance(fault, int) else 404
                self.send_error(record.status)
                return
            if isinstance(fault, tuple) and fault[0] == "redirect":
                record.status = 302
                self.send_response(302)
                self.send_header("Location", fault[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if isinstance(fault, tuple) and fault[0] == "wrong":
                data = fault[1]
            start = int(record.range[len("bytes="):].split("-")[0]) if record.range else 0
            if start >= len(data) and record.range:
                record.status = 416
                self.send_error(416)
                return
            body = data[start:]
            record.status = 206 if record.range else 200
            self.send_response(record.status)
            length = fault[1] if isinstance(fault, tuple) and fault[0] == "length" else len(body)
            if isinstance(fault, tuple) and fault[0] == "trickle":
                length = None
            if length is None:
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(length))
            if record.range:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            if isinstance(fault, tuple) and fault[0] == "trickle":
                self._trickle(record, fault[1])
                return
            if isinstance(fault, tuple) and fault[0] == "delay_body":
                time.sleep(fault[1])
            if isinstance(fault, tuple) and fault[0] == "hold":
                fault[1].wait(server.lifetime)
            if isinstance(fault, tuple) and fault[0] == "hold_body_until_retry":
                server.wait_for_request(arrival + 1)
            if isinstance(fault, tuple) and fault[0] == "drop":
                body = body[:fault[1]]
                self.close_connection = True
            record.body_bytes = len(body)  # before writing: the client may finish and look before the write returns
            self.wfile.write(body)

        def _trickle(self, record, interval):
            try:
                while True:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    record.body_bytes += 1
                    time.sleep(interval)
            except OSError:  # the client went away
                pass

    return Handler
