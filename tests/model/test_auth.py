"""Auth helpers: known answers, and every credential SyncEvolution sent.

The session test recomputes the nonce chain from the captures themselves:
each device (``-a``, ``-b``) keeps the last ``NextNonce`` it received and
uses it in the ``Cred`` of its next session; a device's first session uses
the empty nonce (basic combos: a basic ``Cred`` there, md5 from then on).
"""

from __future__ import annotations

import base64
import doctest
import hashlib
import json
import string
from pathlib import Path

import pytest

import syncml_codec
from syncml_codec.errors import SyncMLError
from syncml_codec.model import auth
from syncml_codec.model.auth import (
    NONCE_LENGTH,
    AuthFormatError,
    AuthType,
    basic_credential,
    hmac_header,
    hmac_mac,
    hmac_mac_from_hash,
    make_nonce,
    md5_credential_from_hash,
    md5_digest,
    md5_digest_10,
    new_nonce,
    nonce_from_text,
    nonce_to_text,
    parse_basic,
    parse_hmac_header,
    user_password_hash,
    verify_basic,
    verify_hmac,
    verify_md5,
)

from ..conftest import CORPUS, corpus_path

SE = CORPUS / "syncevolution"
USER, PASSWORD = "test", "secret"
EMPTY_NONCE_CRED = "MraccrRHny5AADBfmPIGpQ=="  # corpus README: b64(md5(b64(md5("test:secret")) + ":"))


def _h(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- known answers -----------------------------------------------------------


def test_doctests():
    assert doctest.testmod(auth).failed == 0


def test_basic_known_answer():
    assert basic_credential(USER, PASSWORD) == "dGVzdDpzZWNyZXQ="  # as SyncEvolution sends it
    assert parse_basic("dGVzdDpzZWNyZXQ=") == (USER, PASSWORD)
    assert parse_basic(b"dGVzdDpzZWNyZXQ") == (USER, PASSWORD)  # opaque, padding lost
    assert parse_basic(basic_credential("jörg", "pa:ss wörd")) == ("jörg", "pa:ss wörd")
    assert parse_basic(_b64("jörg:x".encode("latin-1"))) == ("jörg", "x")


@pytest.mark.parametrize("data", ["not base64!", "dGVzdA==", "", "dGVzdDpzZWNyZXQ=x"])
def test_parse_basic_rejects(data):
    with pytest.raises(AuthFormatError) as info:
        parse_basic(data)
    assert isinstance(info.value, SyncMLError) and isinstance(info.value, ValueError)
    assert info.value.status == 401


def test_basic_user_with_colon_is_refused():
    with pytest.raises(AuthFormatError):
        basic_credential("a:b", "c")


def test_verify_basic():
    cred = basic_credential(USER, PASSWORD)
    assert verify_basic(cred, USER, PASSWORD)
    assert not verify_basic(cred, USER, "wrong")
    assert not verify_basic(cred, "other", PASSWORD)
    assert not verify_basic("garbage!", USER, PASSWORD)


def test_md5_known_answers():
    assert user_password_hash(USER, PASSWORD) == "i20da3+1Z6VdfXz+tHkdSA=="
    assert md5_digest(USER, PASSWORD, b"") == EMPTY_NONCE_CRED
    # a session of the corpus: wbxml-addressbook-vcard30-basic, step 3 (device A)
    # answers the NextNonce of step 1's response
    assert md5_digest(USER, PASSWORD, nonce_from_text("SyYrKichISE=")) == "mgQSkHTi92Eyd5B1FMOQvg=="
    nonce = b"\x00\xffnonce"
    assert md5_digest(USER, PASSWORD, nonce) == _b64(_h(_b64(_h(b"test:secret")).encode() + b":" + nonce))
    assert md5_digest_10(USER, PASSWORD, nonce) == _b64(_h(b"test:secret:" + nonce))
    assert md5_credential_from_hash("i20da3+1Z6VdfXz+tHkdSA==", b"") == EMPTY_NONCE_CRED


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_verify_md5(version):
    nonce = b"abc123"
    cred = md5_digest_10(USER, PASSWORD, nonce) if version == "1.0" else md5_digest(USER, PASSWORD, nonce)
    assert verify_md5(cred, USER, PASSWORD, nonce, version)
    assert verify_md5(cred.rstrip("=") + "\n", USER, PASSWORD, nonce, version)  # padding and space forgiven
    assert not verify_md5(cred, USER, "Secret", nonce, version)
    assert not verify_md5(cred, "Test", PASSWORD, nonce, version)
    assert not verify_md5(cred, USER, PASSWORD, b"abc124", version)
    assert not verify_md5("%%%", USER, PASSWORD, nonce, version)
    assert not verify_md5("", USER, PASSWORD, nonce, version)
    if version == "1.0":
        with pytest.raises(AuthFormatError):
            verify_md5(cred, USER, user_password_hash(USER, PASSWORD), nonce, version, hashed=True)
    else:
        stored = user_password_hash(USER, PASSWORD)
        assert verify_md5(cred, USER, stored, nonce, version, hashed=True)
        assert not verify_md5(cred, USER, user_password_hash(USER, "x"), nonce, version, hashed=True)


def test_md5_versions_differ_and_unknown_version_is_refused():
    assert md5_digest(USER, PASSWORD, b"n") != md5_digest_10(USER, PASSWORD, b"n")
    with pytest.raises(AuthFormatError):
        verify_md5(EMPTY_NONCE_CRED, USER, PASSWORD, b"", "2.0")


def test_auth_type():
    assert AuthType.BASIC == "syncml:auth-basic"
    assert AuthType.MD5.value == "syncml:auth-md5"
    assert AuthType.MAC.value == "syncml:auth-MAC"
    assert str(AuthType.MAC) == f"{AuthType.MAC}" == "syncml:auth-MAC"
    assert AuthType.from_text("syncml:auth-MD5") is AuthType.MD5
    assert AuthType.from_text(" syncml:auth-mac ") is AuthType.MAC
    with pytest.raises(AuthFormatError):
        AuthType.from_text("syncml:auth-X509")


# -- nonces ------------------------------------------------------------------


def test_nonce_from_fixed_bytes():
    nonce = make_nonce(bytes(range(NONCE_LENGTH)))
    assert nonce == b"ABCDEFGHIJKLMNOPQRSTUV"
    assert make_nonce(bytes(range(256)))[::64] == b"AAAA"  # 256 = 4 * 64: no letter favoured
    assert make_nonce(b"\xff" * 8) == b"________"
    with pytest.raises(AuthFormatError):
        make_nonce(b"1234567")


def test_new_nonce_uses_the_given_source():
    asked = []

    def source(n: int) -> bytes:
        asked.append(n)
        return bytes(n)

    assert new_nonce(source) == b"A" * NONCE_LENGTH
    assert new_nonce(source, 16) == b"A" * 16
    assert asked == [NONCE_LENGTH, 16]
    letters = (string.ascii_letters + string.digits + "-_").encode()
    assert set(new_nonce(lambda n: bytes(range(200, 200 + n)))) <= set(letters)


def test_nonce_text_round_trip():
    for nonce in (b"", b"K&+*'!!!", bytes(range(256)), make_nonce(bytes(range(30)))):
        assert nonce_from_text(nonce_to_text(nonce)) == nonce
        assert nonce_from_text(nonce_to_text(nonce).encode()) == nonce  # opaque in the tree
    assert nonce_from_text(" SyYrKichISE=\r\n") == base64.b64decode("SyYrKichISE=")
    with pytest.raises(AuthFormatError):
        nonce_from_text("not*base64")


# -- x-syncml-hmac -----------------------------------------------------------

BODY = b"<SyncML><SyncHdr/><SyncBody><Final/></SyncBody></SyncML>"


def test_hmac_known_answer():
    nonce = b"nonce\x00bytes"
    expected = _b64(_h(_b64(_h(b"test:secret")).encode() + b":" + nonce + b":" + _b64(_h(BODY)).encode()))
    assert hmac_mac(USER, PASSWORD, nonce, BODY) == expected
    assert hmac_mac_from_hash(user_password_hash(USER, PASSWORD), nonce, BODY) == expected
    assert hmac_header(USER, PASSWORD, nonce, BODY) == f'algorithm=MD5, username="test", mac={expected}'


def test_hmac_round_trip():
    nonce = make_nonce(bytes(range(1, 23)))
    header = hmac_header(USER, PASSWORD, nonce, BODY)
    assert parse_hmac_header(header) == {
        "algorithm": "MD5", "username": USER, "mac": hmac_mac(USER, PASSWORD, nonce, BODY)}
    assert verify_hmac(header, PASSWORD, nonce, BODY)
    assert verify_hmac(header, user_password_hash(USER, PASSWORD), nonce, BODY, hashed=True)
    assert not verify_hmac(header, "wrong", nonce, BODY)
    assert not verify_hmac(header, PASSWORD, nonce + b"x", BODY)
    assert not verify_hmac(header, PASSWORD, nonce, BODY + b" ")
    assert not verify_hmac(header.replace('"test"', '"tset"'), PASSWORD, nonce, BODY)


def test_hmac_header_quoting():
    user = 'Ro"bert, \\Jordan'
    header = hmac_header(user, PASSWORD, b"n", BODY)
    assert parse_hmac_header(header)["username"] == user
    assert verify_hmac(header, PASSWORD, b"n", BODY)


def test_parse_hmac_header_spec_example():
    # OMA DM Security 5.1.4.3, folded over two lines; algorithm may be left out
    value = 'algorithm=MD5, username="Robert Jordan",\r\n mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk'
    assert parse_hmac_header(value) == {
        "algorithm": "MD5", "username": "Robert Jordan", "mac": "NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk"}
    assert parse_hmac_header('Username="u", MAC=abc')["algorithm"] == "MD5"


@pytest.mark.parametrize("value", [
    'username="u"', "mac=abc", 'username="u" mac=abc', 'username="u, mac=abc', "junk", 'username=u v, mac=x',
])
def test_parse_hmac_header_rejects(value):
    with pytest.raises(AuthFormatError):
        parse_hmac_header(value)


def test_verify_hmac_refuses_other_algorithms():
    header = hmac_header(USER, PASSWORD, b"n", BODY).replace("MD5", "SHA1")
    with pytest.raises(AuthFormatError):
        verify_hmac(header, PASSWORD, b"n", BODY)


# -- the SyncEvolution captures ------------------------------------------------


def _load(path: Path) -> syncml_codec.Document:
    data = path.read_bytes()
    return syncml_codec.decode_wbxml(data) if path.suffix == ".wbxml" else syncml_codec.parse_xml(data)


def _text(node) -> str:
    value = "".join(c.decode() if isinstance(c, bytes) else c for c in node.children)
    return value.strip()


def _cred(doc) -> tuple[str, str, str] | None:
    """(auth type, Cred/Data, VerDTD) of the message's SyncHdr, or None."""
    hdr = doc.root.find("SyncHdr")
    cred = hdr.find("Cred")
    if cred is None:
        return None
    types = [_text(e) for e in cred.iter() if getattr(e, "tag", None) == "Type"]
    return types[0], _text(cred.find("Data")), _text(hdr.find("VerDTD"))


def _next_nonces(doc) -> list[str]:
    return [_text(e) for e in doc.root.iter() if getattr(e, "tag", None) == "NextNonce"]


def _bodies(step: Path, kind: str) -> list[Path]:
    return sorted(p for p in step.iterdir() if p.name.endswith((f"-{kind}.wbxml", f"-{kind}.xml")))


def _first_requests() -> list[tuple[str, dict]]:
    index = SE / "first-request" / "index.json"
    return sorted(json.loads(index.read_text()).items()) if index.exists() else []


def _combos() -> list[str]:
    base = SE / "sessions"
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.exists() else []


def test_corpus_counts():
    corpus_path("syncevolution")
    first = _first_requests()
    assert len(first) == 28
    assert sum(entry["auth"] == "md5" for _, entry in first) == 14
    assert len(_combos()) == 17


@pytest.mark.parametrize(("combo", "entry"), _first_requests(), ids=[c for c, _ in _first_requests()])
def test_first_request_credential(combo, entry):
    kind, data, version = _cred(_load(corpus_path("syncevolution", "first-request", entry["body"])))
    assert AuthType.from_text(kind).name.lower() == entry["auth"]
    if entry["auth"] == "md5":
        assert data == EMPTY_NONCE_CRED == md5_digest(USER, PASSWORD, b"")
        assert verify_md5(data, USER, PASSWORD, b"", version)
        assert not verify_md5(data, USER, "secret2", b"", version)
    else:
        assert parse_basic(data) == (USER, PASSWORD)
        assert verify_basic(data, USER, PASSWORD)


@pytest.mark.parametrize("combo", _combos())
def test_session_credentials_follow_each_devices_nonce(combo):
    steps = sorted(p for p in corpus_path("syncevolution", "sessions", combo).iterdir() if p.is_dir())
    assert [s.name[0] for s in steps] == list("12345")
    stored = user_password_hash(USER, PASSWORD)
    last_nonce: dict[str, bytes] = {}  # device -> NextNonce of its previous session
    seen = []
    for step in steps:
        device = step.name.split("-")[1]
        requests = _bodies(step, "request")
        assert len(requests) == 3 == len(_bodies(step, "response"))
        creds = [(path.name, _cred(_load(path))) for path in requests]
        creds = [(name, c) for name, c in creds if c is not None]
        assert [name for name, _ in creds] == [requests[0].name]  # only the session's first message
        kind, data, version = creds[0][1]
        if device not in last_nonce:  # the device's first session
            expected = AuthType.BASIC if combo.endswith("-basic") else AuthType.MD5
        else:
            expected = AuthType.MD5
        assert AuthType.from_text(kind) is expected
        nonce = last_nonce.get(device, b"")
        if expected is AuthType.BASIC:
            assert parse_basic(data) == (USER, PASSWORD)
        else:
            assert data == md5_digest(USER, PASSWORD, nonce)
            assert verify_md5(data, USER, PASSWORD, nonce, version)
            assert verify_md5(data, USER, stored, nonce, version, hashed=True)
            assert not verify_md5(data, USER, "secreT", nonce, version)
            if nonce:  # the chain matters: neither the empty nor the other device's nonce fits
                assert not verify_md5(data, USER, PASSWORD, b"", version)
                for other, other_nonce in last_nonce.items():
                    if other != device:
                        assert not verify_md5(data, USER, PASSWORD, other_nonce, version)
        seen.append((device, kind, bool(nonce)))
        # the device keeps the last NextNonce the server sent in this session
        for response in _bodies(step, "response"):
            for text in _next_nonces(_load(response)):
                last_nonce[device] = nonce_from_text(text)
        assert device in last_nonce
    assert [d for d, _, _ in seen] == list("ababb")
    assert [had for _, _, had in seen] == [False, False, True, True, True]
