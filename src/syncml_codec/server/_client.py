"""The HTTP side of a replay (``syncml replay --url``): a
:class:`~syncml_codec.engine.replay.Transport` that POSTs each message to a
SyncML server, as a client does.

The first message of a session goes to the URL given; every later one to
the RespURI of the last answer that had one (absolute, or relative to the
URL the answer came from).  The ``Content-Type`` is the one the replayer
gives (the recorded message's, ``application/vnd.syncml+xml`` or
``+wbxml``).  An answer with another HTTP status than 200 is returned as it
is (its status kept, the replay reports it); no answer at all (connection
refused, a timeout, a broken connection, a name that does not resolve, an
answer over ``max_answer`` bytes) raises
:class:`~syncml_codec.engine.replay.TransportError` with one line saying
which URL and why.  Redirects are not followed (a SyncML client POSTs to the
RespURI it is given), and neither is an HTTP proxy set in the environment
unless ``use_proxy``.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Any

from ..engine import Response
from ..engine.replay import TransportError
from ..errors import SyncMLError
from ..model import Message, Status

__all__ = ["DEFAULT_MAX_ANSWER", "DEFAULT_REPLAY_TIMEOUT", "HttpTransport", "check_replay_url"]

#: seconds to wait for a server's answer to one message
DEFAULT_REPLAY_TIMEOUT = 60.0
#: bytes of one answer at most (a server that sends more is cut off: TransportError)
DEFAULT_MAX_ANSWER = 32 * 1024 * 1024


def check_replay_url(url: str) -> str:
    """What is wrong with ``url`` as a server to replay to ('' when nothing)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"{url!r} is not an http:// or https:// URL"
    if not parts.hostname:
        return f"{url!r} names no host"
    return ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> None:
        return None  # the 3xx becomes the answer (an HTTPError), reported as such


class HttpTransport:
    """POSTs the messages of a replay to ``url`` (see the module doc).
    ``timeout``: seconds per request; ``max_answer``: bytes of one answer at
    most.  :attr:`last_url` is where the last message went."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_REPLAY_TIMEOUT,
                 max_answer: int = DEFAULT_MAX_ANSWER, use_proxy: bool = False,
                 user_agent: str = "syncml-codec replay") -> None:
        problem = check_replay_url(url)
        if problem:
            raise ValueError(problem)
        self.url = url
        self.timeout = timeout
        self.max_answer = max_answer
        self.user_agent = user_agent
        self.last_url = url
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if not use_proxy:
            handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def __call__(self, body: bytes, content_type: str, session_id: str | None) -> Response:
        url = session_id or self.url
        self.last_url = url
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": content_type, "Accept": content_type, "User-Agent": self.user_agent})
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                status, ctype, data = answer.status, answer.headers.get("Content-Type", ""), self._read(answer, url)
        except urllib.error.HTTPError as exc:  # an answer, with another status than 2xx
            try:
                data = self._read(exc, url)
            except TransportError:
                data = b""
            ctype = exc.headers.get("Content-Type", "") if exc.headers is not None else ""
            return Response(data, ctype, None, http_status=exc.code,
                            summary={"reason": str(exc.reason), "url": url})
        except urllib.error.URLError as exc:
            reason = exc.reason
            text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
            raise TransportError(f"{url}: {text}") from None
        except TimeoutError:
            raise TransportError(f"{url}: no answer within {self.timeout:g} s") from None
        except (http.client.HTTPException, OSError) as exc:
            raise TransportError(f"{url}: {type(exc).__name__}: {exc}".rstrip(": ")) from None
        return Response(data, ctype, self._session(data, ctype, url), http_status=status, summary={"url": url})

    def _read(self, answer: IO[bytes], url: str) -> bytes:
        data = answer.read(self.max_answer + 1)
        if len(data) > self.max_answer:
            raise TransportError(f"{url}: the answer is over {self.max_answer} bytes")
        return data

    def _session(self, data: bytes, content_type: str, url: str) -> str | None:
        """The session handle the answer gives: the URL its next message goes
        to (the RespURI, else the same URL), None when it did not log in."""
        try:
            reply = Message.from_bytes(data, content_type or None, lenient=True)
        except (SyncMLError, ValueError):
            return None
        header = reply.header
        code = next((c.data for c in reply.commands if isinstance(c, Status) and c.cmd_ref == "0"), None)
        if not isinstance(code, str) or not code.strip().startswith("2"):
            return None
        resp_uri = getattr(header, "resp_uri", None) if header is not None else None
        target = urllib.parse.urljoin(url, resp_uri.strip()) if isinstance(resp_uri, str) and resp_uri.strip() \
            else url
        return target
