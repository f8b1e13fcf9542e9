"""Bytes written out as text: hex dumps and base64.

Hex dumps come in many styles, all read here:

* plain hex, with or without spaces and line breaks (``xxd -p``);
* ``xxd``, ``hexdump -C``, ``od -tx1`` (offsets in hex with ``-Ax`` or
  octal), ``tcpdump -X`` and Wireshark's
  "hex dump": an offset column, the bytes, often an ASCII column (ignored:
  it is only used to tell where the bytes end on a line);
* C arrays: ``0x02, 0xa4, ...`` (within ``{ }`` or not).

Offsets are checked: each line must start where the one before ended (a gap
or a line with a non-hex byte is an error with its line number); ``*`` (a run
of lines like the one before, as ``hexdump`` and ``od`` abbreviate) is filled
in; an offset that starts again at 0 begins another dump, so one file may hold
several.  Text between offset dumps (``tcpdump``'s packet lines) is skipped.

:func:`decode_hex` and :func:`decode_base64` give the bytes (one entry per
dump) and notes; the caller reads the bytes again as a capture.
"""

from __future__ import annotations

import binascii
import re

from ._types import CaptureNote

__all__ = ["decode_base64", "decode_hex", "looks_like_base64", "looks_like_hex"]

#: at most this many bytes come out of one text input (a ``*`` line could ask for more)
MAX_DECODED = 64 * 1024 * 1024
_MAX_LINE = 4096  # a line of an offset dump (plain hex lines may be as long as the input)
_MAX_TOKENS = 64  # hex groups looked at on one offset dump line

_HEX_ONLY = re.compile(rb"^(?:0x)?[0-9A-Fa-f\s]+$")
_B64_ONLY = re.compile(rb"^[A-Za-z0-9+/=\-_\s]+$")
_C_BYTE = re.compile(r"0[xX]([0-9A-Fa-f]{1,2})\b")
_OFFSET = re.compile(r"^\s*(0x)?([0-9A-Fa-f]{4,16})(:?)(?=\s|$)")
_HEX_TOKEN = re.compile(r"^(?:[0-9A-Fa-f]{2}){1,16}$")

Decoded = tuple[list[tuple[bytes, str]], list[CaptureNote]]


def looks_like_hex(data: bytes) -> bool:
    """Whether ``data`` is a hex dump of one of the styles read here."""
    head = data[:65536]
    if not head.strip():
        return False
    if _HEX_ONLY.match(head.strip()):
        return True
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        return False
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(_C_BYTE.findall(text)) >= 4 and "," in text:
        return True
    return any(_offset_value(ln) == 0 and _offset_style([ln]) for ln in lines[:40])


def looks_like_base64(data: bytes) -> bool:
    """Whether ``data`` is only base64 text (either alphabet) and white space,
    long enough to be a message."""
    head = data[:65536].strip()
    return len(head) >= 8 and bool(_B64_ONLY.match(head))


def _offset_value(line: str, base: int = 16) -> int | None:
    m = _OFFSET.match(line)
    if not m:
        return None
    try:
        return int(m.group(2), base)
    except ValueError:
        return None


def _offset_style(lines: list[str]) -> bool:
    """Lines with an offset column: the first token an offset (``0x``, a
    colon, two spaces after it, or at least six digits), not a run of bytes."""
    for line in lines:
        m = _OFFSET.match(line)
        if not m:
            return False
        rest = line[m.end():]
        if not (m.group(1) or m.group(3) or len(m.group(2)) >= 6 or rest.startswith("  ") or rest.startswith("\t")
                or not rest.strip()):
            return False
    return True


def _render(raw: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in raw)


def _line_runs(tokens: list[str]) -> list[bytes]:
    """The bytes of the first k hex tokens of a line, for each k, longest first."""
    runs: list[bytes] = []
    run = b""
    for tok in tokens[:_MAX_TOKENS]:
        if not _HEX_TOKEN.match(tok):
            break
        run += bytes.fromhex(tok)
        runs.append(run)
    return runs[::-1]


def _column_fits(raw: bytes, rest: str) -> bool:
    """Whether ``rest`` (what follows the bytes on the line) is nothing or
    the ASCII column of ``raw`` (``|...|`` and ``>...<`` delimiters allowed)."""
    rest = rest.strip()
    if not rest:
        return True
    if len(rest) >= 2 and rest[0] + rest[-1] in ("||", "><"):
        rest = rest[1:-1]
    return "".join(rest.split()) == "".join(_render(raw).split())


def _split(line: str, start: int) -> tuple[list[str], list[str]]:
    """Tokens after ``start`` and, for each count k, the text after k tokens."""
    tokens: list[str] = []
    rests: list[str] = [line[start:]]
    for m in re.finditer(r"\S+", line[start:]):
        tokens.append(m.group(0))
        rests.append(line[start + m.end():])
    return tokens, rests


class _Dump:
    """One offset-style dump being read."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.parts: list[bytes] = []
        self.size = 0
        self.expected: int | None = None  # the next line's offset
        self.last: bytes = b""
        self.star = False
        self.width = 0
        self.ascii = False
        self.error: str | None = None


def _octal_offsets(lines: list[tuple[int, str]]) -> bool:
    """``od`` without ``-Ax``: offsets in octal, 7 digits, each line's 16
    bytes 20 (octal) after the one before."""
    offs = [(m.group(2), ln) for _, ln in lines[:3] if (m := _OFFSET.match(ln)) and _offset_style([ln])]
    if len(offs) < 2 or any(len(o) != 7 or set(o) - set("01234567") for o, _ in offs):
        return False
    m = _OFFSET.match(offs[0][1])
    tokens = _split(offs[0][1], m.end())[0] if m else []
    first_bytes = sum(len(t) // 2 for t in tokens if _HEX_TOKEN.match(t))
    return int(offs[1][0], 8) == first_bytes and int(offs[1][0], 16) != first_bytes


def _decode_offset_dump(lines: list[tuple[int, str]], name: str) -> Decoded:
    outs: list[tuple[bytes, str]] = []
    notes: list[CaptureNote] = []
    dump: _Dump | None = None
    total = 0
    base = 8 if _octal_offsets(lines) else 16

    def finish(d: _Dump | None, last_line: int) -> None:
        if d is None:
            return
        where = f"{name}:{d.first_line}" if d.first_line == last_line else f"{name}:{d.first_line}-{last_line}"
        if d.error:
            notes.append(CaptureNote(where, d.error, error=True))
        elif d.size:
            outs.append((b"".join(d.parts), where))

    prev_no = 0
    for i, (no, line) in enumerate(lines):
        stripped = line.strip()
        if dump is not None and stripped == "*":
            dump.star = True
            prev_no = no
            continue
        m = _OFFSET.match(line)
        if not m or not _offset_style([line]):
            if dump is not None:  # text between dumps (tcpdump's packet lines): the dump ends
                finish(dump, prev_no)
                dump = None
            continue
        offset = _offset_value(line, base)
        if offset is None:
            if dump is not None:
                dump.error = dump.error or f"line {no}: offset {m.group(2)!r} is not octal"
            continue
        if offset == 0 or dump is None:
            finish(dump, prev_no)
            dump = _Dump(no)
            if offset != 0:
                dump.error = f"line {no}: the dump starts at offset 0x{offset:x}, not 0"
        prev_no = no
        if dump.error:
            continue
        if dump.expected is not None and offset != dump.expected:
            if dump.star and offset > dump.expected and dump.last:
                gap = offset - dump.expected
                if gap % len(dump.last) or total + gap > MAX_DECODED:
                    dump.error = f"line {no}: '*' before offset 0x{offset:x} does not repeat whole lines"
                    continue
                dump.parts.append(dump.last * (gap // len(dump.last)))
                dump.size += gap
                total += gap
            else:
                dump.error = (f"line {no}: offset 0x{offset:x} where 0x{dump.expected:x} was expected "
                              f"(a gap or a bad line before)")
                continue
        dump.star = False
        tokens, rests = _split(line, m.end())
        if not tokens:  # the closing line: just the total length
            continue
        runs = _line_runs(tokens)
        nxt, star_next = _next_offset(lines, i + 1, base)
        chosen: bytes | None = None

        def rest_after(raw: bytes, tokens: list[str] = tokens, rests: list[str] = rests) -> str:
            return rests[_tokens_for(tokens, len(raw))]

        if nxt is not None and nxt > offset and not star_next:
            want = nxt - offset
            chosen = next((raw for raw in runs if len(raw) == want), None)
            if chosen is None:
                bad = next((t for t in tokens if not _HEX_TOKEN.match(t)), None)
                got = runs[0] if runs else b""
                if runs and len(got) < want and _column_fits(got, rest_after(got)):
                    dump.error = (f"line {no}: {len(got)} bytes, but the next line starts at offset 0x{nxt:x} "
                                  f"(0x{offset + len(got):x} expected): lines missing")
                else:
                    dump.error = (f"line {no}: {want} bytes expected (the next line starts at offset 0x{nxt:x}), "
                                  + (f"{bad[:20]!r} is not hex" if bad is not None and len(got) < want else
                                     f"{len(got)} found"))
                continue
            if not dump.width:
                dump.width = len(chosen)
                dump.ascii = bool(rest_after(chosen).strip())
        else:
            fits = [raw for raw in runs if (not dump.width or len(raw) <= dump.width)
                    and _column_fits(raw, rest_after(raw))]
            if dump.ascii:  # the ASCII column is there: the bytes end where it begins
                fits = [raw for raw in fits if rest_after(raw).strip()] or fits
            if star_next and dump.width:
                fits = [raw for raw in fits if len(raw) == dump.width]
            chosen = fits[0] if fits else None
        if chosen is None:
            bad = next((t for t in tokens if not _HEX_TOKEN.match(t)), tokens[0])
            dump.error = f"line {no}: {bad[:20]!r} is not hex"
            continue
        if total + len(chosen) > MAX_DECODED:
            dump.error = f"line {no}: more than {MAX_DECODED} bytes"
            continue
        dump.parts.append(chosen)
        dump.size += len(chosen)
        total += len(chosen)
        dump.last = chosen
        dump.expected = offset + len(chosen)
    finish(dump, prev_no)
    return outs, notes


def _tokens_for(tokens: list[str], nbytes: int) -> int:
    count = 0
    for k, tok in enumerate(tokens, 1):
        count += len(tok) // 2
        if count >= nbytes:
            return k
    return len(tokens)


def _next_offset(lines: list[tuple[int, str]], start: int, base: int) -> tuple[int | None, bool]:
    """The offset of the next line (None: there is none, or it is not an
    offset line) and whether a ``*`` comes first."""
    star = False
    for _, line in lines[start:start + 2]:
        if line.strip() == "*":
            star = True
            continue
        return (_offset_value(line, base) if _offset_style([line]) else None), star
    return None, star


def decode_hex(data: bytes, name: str) -> Decoded:
    """The bytes of each hex dump in ``data`` with where it was (``name:LINES``),
    and notes on what could not be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [CaptureNote(name, f"not a hex dump: byte 0x{data[exc.start]:02X} at offset {exc.start} "
                                      "is not text", error=True)]
    filled = [(no, ln) for no, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if not filled:
        return [], [CaptureNote(name, "empty input", error=True)]
    if any(_offset_value(ln) == 0 and _offset_style([ln]) for _, ln in filled[:200]):
        long = next((no for no, ln in filled if len(ln) > _MAX_LINE), None)
        if long is not None:
            return [], [CaptureNote(f"{name}:{long}", f"a line longer than {_MAX_LINE} characters: not a hex dump "
                                                      "line", error=True)]
        outs, notes = _decode_offset_dump(filled, name)
        if not outs and not notes:
            notes.append(CaptureNote(name, "no hex dump lines found", error=True))
        return outs, notes
    if len(_C_BYTE.findall(text[:65536])) >= 4 and "," in text:
        return _decode_c_array(filled, name)
    return _decode_plain(filled, name)


def _decode_plain(lines: list[tuple[int, str]], name: str) -> Decoded:
    digits: list[str] = []
    for k, (no, line) in enumerate(lines):
        chunk = "".join(line.split())
        if k == 0 and chunk[:2].lower() == "0x":
            chunk = chunk[2:]
        bad = re.search(r"[^0-9A-Fa-f]", chunk)
        if bad:
            return [], [CaptureNote(f"{name}:{no}", f"{bad.group(0)!r} is not a hex digit", error=True)]
        digits.append(chunk)
    joined = "".join(digits)
    if len(joined) % 2:
        return [], [CaptureNote(name, f"odd number of hex digits ({len(joined)}): a digit is missing", error=True)]
    if len(joined) // 2 > MAX_DECODED:
        return [], [CaptureNote(name, f"more than {MAX_DECODED} bytes", error=True)]
    where = f"{name}:{lines[0][0]}" if len(lines) == 1 else f"{name}:{lines[0][0]}-{lines[-1][0]}"
    return [(bytes.fromhex(joined), where)], []


def _decode_c_array(lines: list[tuple[int, str]], name: str) -> Decoded:
    out = bytearray()
    started = False
    for no, line in lines:
        body = re.sub(r"//.*|/\*.*?\*/", "", line)
        if "{" in body:
            started = True
            body = body.split("{", 1)[1]
        elif not started and "=" in body:
            continue  # the declaration line before the brace
        ended = "}" in body
        body = body.split("}", 1)[0]
        for tok in re.split(r"[,\s]+", body.strip()):
            if not tok:
                continue
            m = re.fullmatch(r"0[xX]([0-9A-Fa-f]{1,2})", tok)
            if not m:
                return [], [CaptureNote(f"{name}:{no}", f"{tok[:20]!r} is not a 0xNN byte", error=True)]
            out.append(int(m.group(1), 16))
            if len(out) > MAX_DECODED:
                return [], [CaptureNote(name, f"more than {MAX_DECODED} bytes", error=True)]
        if ended:
            break
    return [(bytes(out), f"{name}:{lines[0][0]}-{lines[-1][0]}")], []


def decode_base64(data: bytes, name: str) -> Decoded:
    """The bytes base64 text (standard or URL-safe alphabet, line breaks and
    white space anywhere, padding optional) stands for."""
    text = b"".join(data.split())
    if not text:
        return [], [CaptureNote(name, "empty input", error=True)]
    bad = re.search(rb"[^A-Za-z0-9+/=\-_]", text)
    if bad:
        return [], [CaptureNote(name, f"not base64: {bad.group(0)!r} at offset {bad.start()} (without white space)",
                                error=True)]
    if (b"-" in text or b"_" in text) and (b"+" in text or b"/" in text):
        return [], [CaptureNote(name, "not base64: both alphabets ('+/' and '-_') used", error=True)]
    text = text.replace(b"-", b"+").replace(b"_", b"/")
    body = text.rstrip(b"=")
    pad = len(text) - len(body)
    if b"=" in body:
        return [], [CaptureNote(name, f"bad base64 padding: '=' at offset {body.index(b'=')}, before the end",
                                error=True)]
    if len(body) % 4 == 1:
        return [], [CaptureNote(name, f"bad base64: {len(body)} characters leave one over (a character is "
                                      "missing or extra)", error=True)]
    need = -len(body) % 4
    if pad and pad != need:
        return [], [CaptureNote(name, f"bad base64 padding: {pad} '=' where {need} belong", error=True)]
    if len(body) * 3 // 4 > MAX_DECODED:
        return [], [CaptureNote(name, f"more than {MAX_DECODED} bytes", error=True)]
    try:
        raw = binascii.a2b_base64(body + b"=" * need, strict_mode=True)
    except binascii.Error as exc:
        return [], [CaptureNote(name, f"bad base64: {exc}", error=True)]
    return [(raw, name)], []
