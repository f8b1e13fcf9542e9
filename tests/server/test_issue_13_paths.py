"""Issue 13, item 1 (the HTTP side): the sync paths.  ``/sync`` by default
and IceWarp's ``/syncml/`` and ``/syncml/index.html`` too; ``make_app(path=)``,
``SYNCML_PATHS`` and ``syncml serve --path`` take several; the RespURI names
the path the client used."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from syncml_codec.server import DEFAULT_PATHS, ConfigError, create_app, make_app, sync_paths

from .test_cli_serve import Serve, syncml
from .test_issue_12_app import FIRST, WBXML, database, resp_uri

PATHS_TABLE = [
    # (paths served, PATH_INFO, HTTP status of a POST)
    (DEFAULT_PATHS, "/sync", 200),
    (DEFAULT_PATHS, "/syncml/", 200),
    (DEFAULT_PATHS, "/syncml", 200),  # with or without the trailing slash
    (DEFAULT_PATHS, "/syncml/index.html", 200),
    (DEFAULT_PATHS, "/sync/", 200),
    (DEFAULT_PATHS, "/", 404),
    (DEFAULT_PATHS, "/sync/extra", 404),
    (DEFAULT_PATHS, "/syncml/index.htm", 404),
    (DEFAULT_PATHS, "/SYNC", 404),  # paths are case-sensitive, as URLs are
    (("/a", "/b/c"), "/a", 200),
    (("/a", "/b/c"), "/b/c", 200),
    (("/a", "/b/c"), "/sync", 404),
    ("/only", "/only", 200),
]


class _Engine:
    def __init__(self) -> None:
        self.base_url = ""
        self.urls: list[str] = []

    def handle(self, body: bytes, content_type: str, session_id: str | None, remote: str | None = None) -> Any:
        from types import SimpleNamespace

        self.urls.append(self.base_url)
        return SimpleNamespace(body=b"ok", content_type=content_type, session_id="S")


def _post(app: Any, path: str) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
                               "CONTENT_TYPE": WBXML, "CONTENT_LENGTH": "2", "wsgi.input": io.BytesIO(b"ok"),
                               "HTTP_HOST": "sync.example"}
    setup_testing_defaults(environ)
    seen: dict[str, str] = {}
    body = b"".join(app(environ, lambda status, headers: seen.setdefault("status", status)))
    return seen["status"], body


@pytest.mark.parametrize(("paths", "path", "status"), PATHS_TABLE)
def test_paths_table(paths: Any, path: str, status: int) -> None:
    engine = _Engine()
    got, body = _post(make_app(engine, path=paths, url_from_request=True), path)
    assert got.startswith(str(status)), (got, body)
    if status == 200:  # the RespURI goes back to the path served (not to whatever slashes the client added)
        (served,) = [p for p in sync_paths(paths) if p.rstrip("/") == path.rstrip("/")]
        assert engine.urls == [f"http://sync.example{served}"]
    else:
        first = sync_paths(paths)[0]
        assert body == f"no SyncML service here; POST to {first}\n".encode()


@pytest.mark.parametrize("bad", ["sync", "/sync?x=1", "/a b", "/../etc", "/a/../b", "//x", "/" + "x" * 300, "/s#y"])
def test_a_bad_path_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="sync path"):
        sync_paths([bad])
    with pytest.raises(ValueError):
        make_app(_Engine(), path=[bad])


def test_paths_are_bounded_and_deduplicated() -> None:
    assert sync_paths(["/a", "/a/", "/b"]) == ("/a", "/b")
    with pytest.raises(ValueError, match="at least one"):
        sync_paths([])
    with pytest.raises(ValueError, match="at most 16"):
        sync_paths([f"/p{i}" for i in range(17)])


def test_create_app_serves_the_paths_setting(tmp_path: Path) -> None:
    db = database(tmp_path)
    app = create_app({"SYNCML_DB": db, "SYNCML_LOG_LEVEL": "warning", "SYNCML_PATHS": "/syncml/index.html, /x"})
    try:
        status, body = _post_first(app, "/syncml/index.html")
        assert status.startswith("200")
        assert resp_uri(body).startswith("http://sync.example/syncml/index.html?sessionid=")
        assert _post_first(app, "/sync")[0].startswith("404")
    finally:
        app.close()
    default = create_app({"SYNCML_DB": db, "SYNCML_LOG_LEVEL": "warning"})
    try:
        status, body = _post_first(default, "/syncml/")
        assert status.startswith("200") and resp_uri(body).startswith("http://sync.example/syncml/?sessionid=")
    finally:
        default.close()
    with pytest.raises(ConfigError, match=r"^SYNCML_PATHS: a sync path starts with /"):
        create_app({"SYNCML_DB": db, "SYNCML_PATHS": "/ok,nope"})


def _post_first(app: Any, path: str) -> tuple[str, bytes]:
    body = FIRST.read_bytes()
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "",
                               "CONTENT_TYPE": WBXML, "CONTENT_LENGTH": str(len(body)),
                               "wsgi.input": io.BytesIO(body), "HTTP_HOST": "sync.example"}
    setup_testing_defaults(environ)
    seen: dict[str, str] = {}
    chunks = app(environ, lambda status, headers: seen.setdefault("status", status))
    return seen["status"], b"".join(chunks)


def test_serve_with_several_paths(tmp_path: Path) -> None:
    assert syncml("user", "add", "test", "--password", "secret", "--db", str(tmp_path / "serve.db")).returncode == 0
    server = Serve(tmp_path, "--path", "/syncml/", "--path", "/dav/sync")
    try:
        assert server.url.endswith("/syncml/")  # the first one is printed
        first = FIRST.read_bytes()
        for path in ("/syncml/", "/dav/sync"):
            assert server.request("POST", path, first, WBXML)[0] == 200
        assert server.request("POST", "/sync", first, WBXML)[0] == 404
    finally:
        code, _out, err = server.stop()
    assert code == 0, err


def test_serve_refuses_a_bad_path(tmp_path: Path) -> None:
    proc = syncml("serve", "--port", "0", "--db", str(tmp_path / "s.db"), "--path", "nope")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "syncml serve: --path: a sync path starts with / and has no query, space or " \
                                  "'..': 'nope'"
