"""What the Versit benchmarks time: our tokenizer (Cython and pure Python,
parse + serialize) and vobject (a benchmark-only dependency: ``pip install
vobject``; absent means its rows are skipped), on generated contacts shaped
like ``shared/reference/formats.md`` section 9: 13 properties each; vCard 2.1
with three QUOTED-PRINTABLE properties (CHARSET, soft line breaks), nameless
parameters and an ``item1.`` group; vCard 3.0 with the same data, escaped
and folded at 75 octets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from syncml_codec.formats import versit

FIRST = ["Hans", "Jürgen", "Anna", "Zoë", "Peter", "Åsa", "Małgorzata", "Li", "José", "Ines"]
LAST = ["Müller", "Schmidt", "Köhler", "O'Brien", "Nguyen", "García", "Weiß", "Dupont", "Rossi", "Berg"]
CITY = ["Köln", "München", "Zürich", "Malmö", "Kraków", "São Paulo", "Genève", "Wien"]


def _qp(text: str, start: int = 45) -> str:
    """QUOTED-PRINTABLE as phones write it: =XX escapes (newlines =0D=0A),
    ``=`` soft breaks keeping lines within 76 octets."""
    out, col = [], start
    for byte in text.replace("\n", "\r\n").encode("utf-8"):
        tok = chr(byte) if 32 <= byte <= 126 and byte != 61 else f"={byte:02X}"
        if col + len(tok) > 75:
            out.append("=\r\n")
            col = 0
        out.append(tok)
        col += len(tok)
    return "".join(out)


def _fold30(line: str) -> str:
    raw = line.encode("utf-8")
    out, start, width = [], 0, 75
    while len(raw) - start > width:
        cut = start + width
        while (raw[cut] & 0xC0) == 0x80:
            cut -= 1
        out.append(raw[start:cut])
        start, width = cut, 74
    out.append(raw[start:])
    return b"\r\n ".join(out).decode("utf-8")


def _fields(i: int) -> dict[str, str]:
    first, last, city = FIRST[i % len(FIRST)], LAST[i // 10 % len(LAST)], CITY[i % len(CITY)]
    return {
        "first": first, "last": last, "city": city,
        "org": f"Firma {last} & Söhne GmbH",
        "note": (f"Kunde seit {2000 + i % 20}. Bevorzugt Anrufe am Vormittag, "
                 f"Rückruf über die Zentrale in {city}.\nZweite Zeile mit Umlauten: äöü ÄÖÜ ß, Nr. {i}"),
        "street": f"Hauptstraße {i % 200 + 1}",
        "tel1": f"+49 221 {i:07d}", "tel2": f"+49 171 {i * 7 % 10_000_000:07d}",
        "email": f"contact.{i}@example.com",
    }


def contact21(i: int) -> str:
    f = _fields(i)
    lines = [
        "BEGIN:VCARD",
        "VERSION:2.1",
        f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(f['last'] + ';' + f['first'] + ';;;')}",
        f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(f['first'] + ' ' + f['last'])}",
        f"ORG:Firma {i}",
        "TITLE:Sales",
        f"TEL;WORK;VOICE:{f['tel1']}",
        f"TEL;CELL:{f['tel2']}",
        f"EMAIL;INTERNET;PREF:{f['email']}",
        "ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:"
        + _qp(";;" + f["street"] + ";" + f["city"] + ";;50667;Germany"),
        f"NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{_qp(f['note'])}",
        "item1.URL:http://www.example.com/",
        f"UID:contact-{i:06d}",
        "X-FUNAMBOL-FOLDER:DEFAULT_FOLDER",
        "END:VCARD",
    ]
    return "\r\n".join(lines) + "\r\n"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def contact30(i: int) -> str:
    f = _fields(i)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"N:{_esc(f['last'])};{_esc(f['first'])};;;",
        f"FN:{_esc(f['first'] + ' ' + f['last'])}",
        f"ORG:{_esc(f['org'])}",
        "TITLE:Sales",
        f"TEL;TYPE=WORK,VOICE:{f['tel1']}",
        f"TEL;TYPE=CELL:{f['tel2']}",
        f"EMAIL;TYPE=INTERNET,PREF:{f['email']}",
        f"ADR;TYPE=WORK:;;{_esc(f['street'])};{_esc(f['city'])};;50667;Germany",
        f"NOTE:{_esc(f['note'])}",
        "item1.URL:http://www.example.com/",
        f"UID:contact-{i:06d}",
        "X-FUNAMBOL-FOLDER:DEFAULT_FOLDER",
        "END:VCARD",
    ]
    return "\r\n".join(_fold30(ln) for ln in lines) + "\r\n"


def contacts(version: str, n: int = 10_000) -> list[bytes]:
    """``n`` contacts as separate items (the sync-server pattern: one per Add)."""
    make = contact21 if version == "2.1" else contact30
    return [make(i).encode("utf-8") for i in range(n)]


# -- contenders: each takes the list of items and returns the output items ----
def ours(tok: versit.Tokenizer) -> Callable[[list[bytes]], list[bytes]]:
    parse, serialize = tok.parse_items, tok.serialize_items

    def run(items: list[bytes]) -> list[bytes]:
        return [serialize(parse(data)) for data in items]

    return run


def ours_file(tok: versit.Tokenizer) -> Callable[[bytes], bytes]:
    """The whole file at once (one parse, one serialize)."""
    parse, serialize = tok.parse_items, tok.serialize_items
    return lambda data: serialize(parse(data))


def tokenizers() -> dict[str, versit.Tokenizer]:
    out = {"python": versit.PYTHON}
    try:
        from syncml_codec.formats import _versit
    except ImportError:
        return out
    return {"cython": versit.cython_tokenizer(_versit), **out}


def vobject_module() -> Any:
    try:
        import vobject
    except ImportError:
        return None
    return vobject


def vobject_items(vobject: Any) -> Callable[[list[bytes]], list[bytes]]:
    """Per item ``readOne`` + ``serialize`` (allowQP for 2.1), as a server
    handling one Add at a time would."""

    def run(items: list[bytes]) -> list[bytes]:
        return [vobject.readOne(data.decode("utf-8"), allowQP=True).serialize().encode("utf-8")
                for data in items]

    return run


def vobject_file(vobject: Any) -> Callable[[bytes], bytes]:
    """``readComponents`` over the whole file, then serialize each."""

    def run(data: bytes) -> bytes:
        comps = vobject.readComponents(data.decode("utf-8"), allowQP=True)
        return "".join(c.serialize() for c in comps).encode("utf-8")

    return run
