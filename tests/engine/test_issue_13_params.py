"""Issue 13: IceWarp's sync URL parameters, read from the HTTP URL and the
SyncHdr Target LocURI, with every separator the guide allows."""

from __future__ import annotations

import io

import pytest

from syncml_codec.engine._params import SyncParams, parse_params
from syncml_codec.server.wsgi import make_app, request_headers

TABLE = [
    # (URL or LocURI, expected fields)
    ("http://host/sync", {}),
    ("./Contacts", {}),
    ("http://host/sync?sync=9", {"sync": 9}),
    ("http://host/sync?sync=8&format=sif", {"sync": 8, "format": "sif"}),
    ("http://host/sync?sync=7,&format=vob", {"sync": 7, "format": "vob"}),
    ("http://host/sync?par=1,#sync=9", {"sync": 9, "unknown": (("par", "1"),)}),
    ("http://host/sync#sync=4#format=get", {"sync": 4, "format": "get"}),
    ("http://host/sync?reset", {"reset": True}),
    ("http://host/sync?backup", {"backup": ""}),
    ("http://host/sync?backup=", {"backup": ""}),
    ("http://host/sync?backup=nokia", {"backup": "nokia"}),
    ("http://host/sync?BACKUP=Nokia&Sync=2", {"backup": "Nokia", "sync": 2}),
    ("http://host/sync?push&sessionid=abc", {"push": True, "session_id": "abc"}),
    ("http://host/sync?format=%73if", {"format": "sif"}),
    ("sync=6", {"sync": 6}),
    ("reset", {"reset": True}),
    ("http://host/sync?sync=0", {"invalid": (("sync", "0"),)}),
    ("http://host/sync?sync=10", {"invalid": (("sync", "10"),)}),
    ("http://host/sync?sync=two", {"invalid": (("sync", "two"),)}),
    ("http://host/sync?format=xml", {"invalid": (("format", "xml"),)}),
    ("http://host/sync?backup=../../etc/passwd", {"invalid": (("backup", "../../etc/passwd"),)}),
    ("http://host/sync?backup=.hidden", {"invalid": (("backup", ".hidden"),)}),
    ("http://host/sync?reset=no", {"invalid": (("reset", "no"),)}),
    ("http://host/sync?a=1&&,&b", {"unknown": (("a", "1"), ("b", ""))}),
]


@pytest.mark.parametrize(("url", "fields"), TABLE)
def test_parameters_table(url: str, fields: dict[str, object]) -> None:
    assert parse_params(url) == SyncParams(**fields)  # type: ignore[arg-type]


def test_a_hostile_url_is_bounded() -> None:
    params = parse_params("http://h/sync?" + "&".join(f"x{i}=" + "y" * 5000 for i in range(10_000)))
    assert len(params.unknown) == 32 and all(len(v) == 200 for _, v in params.unknown)


def test_http_parameters_win_over_the_locuri() -> None:
    http = parse_params("sync=8&format=sif")
    loc = parse_params("http://h/sync?sync=9&backup=x&format=vob")
    merged = http.over(loc)
    assert (merged.sync, merged.format, merged.backup) == (8, "sif", "x")
    assert not SyncParams() and merged


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def handle(self, body, content_type, session_id, remote=None, *, query=None, headers=None):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace
        self.calls.append({"query": query, "headers": headers})
        return SimpleNamespace(body=b"ok", content_type="application/vnd.syncml+xml", session_id=None)


class _Old:
    def handle(self, body, content_type, session_id, remote=None):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace
        return SimpleNamespace(body=b"old", content_type="application/vnd.syncml+xml", session_id=None)


def _post(app, query: str) -> bytes:  # type: ignore[no-untyped-def]
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sync", "QUERY_STRING": query,
               "CONTENT_TYPE": "application/vnd.syncml+xml", "CONTENT_LENGTH": "3",
               "wsgi.input": io.BytesIO(b"<x>"), "HTTP_X_SYNCML_HMAC": "algorithm=MD5, username=\"u\", mac=abc",
               "SERVER_NAME": "h", "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
    return b"".join(app(environ, lambda status, headers: None))


def test_the_http_front_passes_query_and_headers() -> None:
    handler = _Recorder()
    assert _post(make_app(handler), "sync=9,#format=sif") == b"ok"
    call = handler.calls[0]
    assert call["query"] == "sync=9,#format=sif"
    assert call["headers"]["x-syncml-hmac"].startswith("algorithm=MD5")  # type: ignore[index]
    assert call["headers"]["content-type"] == "application/vnd.syncml+xml"  # type: ignore[index]


def test_a_four_argument_handler_is_still_served() -> None:
    assert _post(make_app(_Old()), "sync=9") == b"old"


def test_request_headers_lowercases_names() -> None:
    assert request_headers({"HTTP_X_SYNCML_HMAC": "m", "HTTP_HOST": "h", "wsgi.input": None}) == {
        "x-syncml-hmac": "m", "host": "h"}
