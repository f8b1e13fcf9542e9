"""Deterministic mutated copies of corpus messages: truncations, bit flips,
splices, insertions and deletions.  The same seed gives the same variants
on every machine."""

from __future__ import annotations

import random
from collections.abc import Iterator


def variants(samples: list[bytes], count: int, seed: int = 20261122) -> Iterator[bytes]:
    rng = random.Random(seed)
    made = 0
    # every truncation of the first few samples
    for data in samples[:4]:
        for n in range(len(data)):
            if made >= count // 4:
                break
            yield data[:n]
            made += 1
    while made < count:
        data = samples[rng.randrange(len(samples))]
        kind = rng.randrange(5)
        if kind == 0:  # flip one to three bits
            buf = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
            out = bytes(buf)
        elif kind == 1:  # splice two messages
            other = samples[rng.randrange(len(samples))]
            out = data[:rng.randrange(len(data))] + other[rng.randrange(len(other)):]
        elif kind == 2:  # insert random bytes
            i = rng.randrange(len(data))
            out = data[:i] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + data[i:]
        elif kind == 3:  # delete a run
            i = rng.randrange(len(data))
            out = data[:i] + data[i + rng.randint(1, 8):]
        else:  # set a byte to an interesting value
            buf = bytearray(data)
            buf[rng.randrange(len(buf))] = rng.choice([0x00, 0x01, 0x03, 0x04, 0x40, 0x43, 0x80,
                                                        0x83, 0xC3, 0xFF, 0x7F, 0x30])
            out = bytes(buf)
        made += 1
        yield out


def outcome(fn, data: bytes, **kw):
    """The result, or the exception class and where it points."""
    try:
        return ("ok", fn(data, **kw))
    except ValueError as exc:
        where = getattr(exc, "offset", None), getattr(exc, "line", None)
        return ("error", type(exc).__name__, where)
