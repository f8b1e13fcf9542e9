"""``syncml inspect`` on real traffic (``--messages``: each message on its own; the
default transcript is tested in ``tests/cli/test_issue_16_inspect*.py``)."""

from __future__ import annotations

from ..conftest import corpus_path
from ..test_cli import syncml


def test_inspect_a_session():
    base = corpus_path("syncevolution", "sessions", "xml-calendar-ical20-md5", "1-a-first-sync")
    proc = syncml("inspect", "--messages", str(base / "001-request.xml"), str(base / "001-response.xml"),
                  str(base / "002-request.xml"))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.decode()
    assert "SyncML 1.2 (XML," in out
    assert "credentials syncml:auth-md5" in out
    assert "Alert #3: 201 Slow sync" in out
    assert "devinf 1.2 document (Patrick Ohly SyncEvolution)" in out
    assert "Status #1 -> msg 1 cmd #0 SyncHdr: 212 Authentication accepted" in out
    assert "NextNonce" in out and "anchors last=- next=" in out
    assert "Sync #4: ./calendar -> calendar" in out and "Add #5" in out


def test_inspect_wbxml_and_fragments():
    path = corpus_path("libwbxml", "gen", "wbxml", "syncml", "syncml-013.wbxml")
    proc = syncml("inspect", "--messages", str(path))
    assert proc.returncode == 1 and b"SyncML/SyncBody/Sync[1]: CmdID missing" in proc.stderr
    proc = syncml("inspect", "--messages", "--lenient", str(path))
    assert proc.returncode == 0 and b"(WBXML, " in proc.stdout and b"Add #6" in proc.stdout
    # the transcript (default) shows the broken message as read leniently, says why on stderr, exits 1
    proc = syncml("inspect", str(path))
    assert proc.returncode == 1 and b"SyncML/SyncBody/Sync[1]: CmdID missing" in proc.stderr
    assert b"not valid SyncML (read leniently)" in proc.stdout and b"Add" in proc.stdout
    proc = syncml("inspect", "--lenient", str(path))
    assert proc.returncode == 0 and proc.stderr == b"" and b"Package" in proc.stdout
