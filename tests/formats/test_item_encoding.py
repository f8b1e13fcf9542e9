"""Item transfer encodings (<Meta><Format> b64, des;b64, 3des;b64)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from syncml_codec.errors import FormatError, UnsupportedFormatError
from syncml_codec.formats import ItemKey, decode_item_data, encode_item_data, transforms_of

VCARD = b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:M\xc3\xbcller;J\xc3\xbcrgen\r\nEND:VCARD\r\n"


def test_des_known_answer():
    # The classic DES worked example (key 133457799BBCDFF1): the first
    # block must be the published ciphertext; the second is PKCS#5 padding.
    key = ItemKey(bytes.fromhex("133457799BBCDFF1"))
    out = encode_item_data(bytes.fromhex("0123456789ABCDEF"), "des", key)
    assert len(out) == 16
    assert out[:8].hex().upper() == "85E813540F0AB405"


def test_password_key_is_md5_of_password():
    assert ItemKey.from_password("guest").raw == hashlib.md5(b"guest").digest()


@pytest.mark.parametrize("fmt", ["b64", "des;b64", "3des;b64", "DES; B64", "bin", "chr", None, "des", "3des"])
def test_round_trip(fmt):
    key = ItemKey.from_password("s3cret")
    wire = encode_item_data(VCARD, fmt, key)
    assert decode_item_data(wire, fmt, key) == VCARD
    if fmt in ("bin", "chr", None):
        assert wire == VCARD
    else:
        assert wire != VCARD


def test_des_b64_is_base64_of_des():
    key = ItemKey.from_password("s3cret")
    assert base64.b64decode(encode_item_data(VCARD, "des;b64", key)) == encode_item_data(VCARD, "des", key)
    assert transforms_of("des;b64") == ["des", "b64"]


def test_single_des_differs_from_two_key_3des():
    key = ItemKey.from_password("s3cret")
    assert encode_item_data(VCARD, "des", key) != encode_item_data(VCARD, "3des", key)


def test_24_byte_3des_key():
    key = ItemKey(bytes(range(24)))
    assert decode_item_data(encode_item_data(VCARD, "3des;b64", key), "3des;b64", key) == VCARD


def test_wrong_key_is_a_clear_error():
    wire = encode_item_data(VCARD, "des;b64", ItemKey.from_password("right"))
    with pytest.raises(FormatError, match=r"does not decrypt|padding"):
        # a wrong key almost always breaks the padding; compare otherwise
        out = decode_item_data(wire, "des;b64", ItemKey.from_password("wrong"))
        if out != VCARD:
            raise FormatError("does not decrypt")


def test_missing_key():
    with pytest.raises(FormatError, match="no key"):
        decode_item_data(b"AAAAAAAAAAA=", "des;b64")


def test_truncated_ciphertext():
    key = ItemKey.from_password("k")
    wire = encode_item_data(VCARD, "des", key)
    with pytest.raises(FormatError, match="8-byte blocks"):
        decode_item_data(wire[:-3], "des", key)


def test_bad_base64():
    with pytest.raises(FormatError, match="not base64"):
        decode_item_data(b"abc", "b64")


def test_unknown_format():
    with pytest.raises(UnsupportedFormatError, match="aes"):
        decode_item_data(b"x", "aes;b64")


@pytest.mark.parametrize("raw", [b"short", bytes(10)])
def test_bad_key_length(raw):
    with pytest.raises(FormatError, match="key needs"):
        encode_item_data(VCARD, "3des" if len(raw) == 10 else "des", ItemKey(raw))
