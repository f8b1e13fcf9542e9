"""Issue 16 item 1 (frames) on the command line: OBEX, SAN, hex, base64,
client logs and log directories given to ``syncml inspect`` and ``syncml
decode`` (auto-detected and with ``--input``); bad input gives one line on
stderr naming the input and what is wrong, exit status 1, no traceback."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from syncml_codec.cli import main

from ..capture.test_issue_16_frames import BUTEO, FUNAMBOL, SE_FIXTURE, obex_session, wbxml_message, xxd
from ..conftest import corpus_files, corpus_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_inspect_a_funambol_log(capsys: pytest.CaptureFixture[str]) -> None:
    log = corpus_path(*FUNAMBOL, "FunambolOutlookExamples", "AllToServer.txt")
    code, out, err = run(capsys, "inspect", str(log))
    assert code == 0 and not err
    assert "Session 1: SessionID 1266974854" in out and "4 messages, 4 packages" in out
    assert "client -> server  msg 1  1030 bytes XML  at +0.000s" in out
    assert f"[{log}:83]" in out  # the server's first message, at its line of the log


def test_inspect_the_syncevolution_log_fixture(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inspect", str(SE_FIXTURE))
    assert code == 0 and not err
    assert out.count("Session ") == 2  # the MD5 challenge, then the sync in a new session
    assert "client -> server" in out and "server -> client" in out


def test_inspect_obex_responses_and_a_san(capsys: pytest.CaptureFixture[str]) -> None:
    data = corpus_path(*BUTEO)
    code, out, err = run(capsys, "inspect", str(data / "obexresp01.bin"), str(data / "SAN01.bin"))
    assert code == 0
    assert "Who SYNCML-SYNC" in out + err
    assert "PC Suite Data Sync" in out


def test_decode_an_obex_stream_and_a_hex_dump(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    raw = wbxml_message()
    stream = tmp_path / "s.obex"
    response = corpus_files("syncevolution/sessions", "*/1-a-first-sync/001-response.wbxml")[0].read_bytes()
    stream.write_bytes(obex_session(raw, response))
    dump = tmp_path / "m.txt"
    dump.write_text(xxd(raw))
    code, out, _ = run(capsys, "decode", str(stream), str(dump))
    assert code == 0
    assert out.count("<SyncML") == 3 and out.count("</SyncML>") == 3


@pytest.mark.parametrize(("kind", "content", "error"), [
    ("log", "broken", ":123: message cut short: no </SyncML> before line "),
    ("hex", "gap", ": line 3: 16 bytes, but the next line starts at offset 0x40 (0x30 expected): lines missing"),
    ("obex", "long", ": packet 1 at offset 0: packet 0x82 says 65535 bytes, only "),
    ("base64", "garbage", ": bad base64 padding: '=' at offset 4, before the end"),
])
@pytest.mark.parametrize("command", ["inspect", "decode"])
def test_bad_input_is_one_line_and_status_1(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
                                            kind: str, content: str, error: str) -> None:
    path = tmp_path / f"bad.{kind}"
    if content == "broken":
        lines = corpus_path(*FUNAMBOL, "OLPluginFromLocalToServer.txt").read_bytes().split(b"\n")
        end = next(i for i, ln in enumerate(lines) if ln.startswith(b"</SyncML>"))
        path.write_bytes(b"\n".join(lines[:end - 5] + lines[end + 1:]))
    elif content == "gap":
        lines = xxd(wbxml_message()).splitlines()
        del lines[3]
        path.write_text("\n".join(lines) + "\n")
    elif content == "long":
        path.write_bytes(b"\x82\xff\xff\x49\x00\x10" + wbxml_message()[:40])
    else:
        path.write_bytes(b"AqQB=agBt\n")
    code, out, err = run(capsys, command, str(path))
    assert code == 1
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if not ln.startswith("info:")]
    assert len(errors) == 1 and str(path) in errors[0] and error in errors[0], err
    if content == "broken":
        assert out  # the five good messages were still shown


def test_forced_input_that_does_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    xml = corpus_path("devices", "pohly+funambol-cpp-client-api", "test", "testcases", "syncML1.xml")
    code, _, err = run(capsys, "inspect", "--input", "obex", str(xml))
    assert code == 1
    assert err.strip().endswith(f"{xml}: not an OBEX packet stream: first byte 0x3C is no OBEX opcode or response code")


def test_installed_command_reads_base64_from_stdin() -> None:
    exe = shutil.which("syncml", path=str(Path(sys.executable).parent)) or shutil.which("syncml")
    if exe is None:
        pytest.skip("the syncml command is not installed")
    raw = wbxml_message()
    proc = subprocess.run([exe, "decode", "-"], input=base64.encodebytes(raw), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert b"<SyncML" in proc.stdout and b"Traceback" not in proc.stderr
    proc = subprocess.run([exe, "decode", "--input", "base64", "-"], input=b"!!!!", capture_output=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.decode().strip().endswith("-: not base64: b'!' at offset 0 (without white space)")
