"""Issue 13, red team: the SAN decoder (and ``syncml decode``) over every
one-byte change, cut and deletion of the two real notifications, and over
random input: a notification or :class:`NotificationError`, nothing else."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from syncml_codec.cli._main import main
from syncml_codec.codec import Notification, looks_like_notification
from syncml_codec.errors import NotificationError

from ..conftest import corpus_path

SAN_DIR = ("devices", "sailfishos+buteo-syncml", "tests_meego", "data")


def _decode(data: bytes) -> Notification | None:
    looks = looks_like_notification(data)
    try:
        n = Notification.from_bytes(data)
    except NotificationError as exc:
        assert 0 <= exc.offset <= len(data)
        assert not looks
        return None
    assert n.trigger == data[16:] and n.digest == data[:16]
    n.verify("", "")  # (a bool, whatever was read)
    return n


def _variants(raw: bytes) -> list[bytes]:
    out = [raw[:cut] for cut in range(len(raw))]
    for i in range(len(raw)):
        out.append(raw[:i] + raw[i + 1:])
        for value in range(256):
            out.append(raw[:i] + bytes([value]) + raw[i + 1:])
    return out


@pytest.mark.parametrize("name", ["SAN01.bin", "SAN02.bin"])
def test_every_byte_of_a_real_notification_changed(name: str) -> None:
    raw = corpus_path(*SAN_DIR, name).read_bytes()
    decoded = refused = 0
    for data in _variants(raw):
        if _decode(data) is None:
            refused += 1
        else:
            decoded += 1
    assert decoded and refused  # both outcomes happen (the test can fail)


def test_random_input_and_random_tails() -> None:
    rng = random.Random(13)
    raw = corpus_path(*SAN_DIR, "SAN01.bin").read_bytes()
    for _ in range(5000):
        _decode(bytes(rng.randrange(256) for _ in range(rng.randrange(80))))
        cut = rng.randrange(len(raw))
        _decode(raw[:cut] + bytes(rng.randrange(256) for _ in range(rng.randrange(300))))


def test_syncml_decode_on_mutated_notifications(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``syncml decode`` answers every mutated notification with an exit code, never a traceback."""
    raw = corpus_path(*SAN_DIR, "SAN02.bin").read_bytes()
    rng = random.Random(14)
    path = tmp_path / "san.bin"
    for _ in range(60):
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path.write_bytes(bytes(data[:rng.randrange(len(data) + 1)]))
        code = main(["decode", str(path)])
        _out, err = capsys.readouterr()
        assert code in (0, 1, 2) and "Traceback" not in err
