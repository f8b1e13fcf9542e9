"""An HTTP front on loopback between the real client and our server, for
the tests that act on the client or the server in the middle of a session
(kill the server, signal the client): each POST is handed to the owner's
``relay`` one at a time, as a client sends them."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from typing import Any


def post(url: str, body: bytes, ctype: str) -> tuple[int, bytes, str]:
    """POST ``body`` to ``url``: (HTTP status, answer body, its Content-Type), error answers too."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read(), answer.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


class Relay:
    """Listens on a free loopback port (``url``); :meth:`serve` starts answering.
    Subclasses answer each request in :meth:`relay`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one request at a time, as a client sends them
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ctype = self.headers.get("Content-Type", "")
                with owner.lock:
                    code, data, answer_type = owner.relay(self.path, body, ctype)
                self.send_response(code)
                self.send_header("Content-Type", answer_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sync"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def serve(self) -> None:
        self.thread.start()

    def relay(self, path: str, body: bytes, ctype: str) -> tuple[int, bytes, str]:
        raise NotImplementedError
