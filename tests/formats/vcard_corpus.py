"""The corpus files that hold vCards, and the items in them, by name."""

from __future__ import annotations

from syncml_codec.formats import parse_items

from ..conftest import CORPUS

FORMATS = CORPUS / "formats"
SKIP = {"vobject/more_tests.txt"}  # prose with vCards inside, not a vCard file


def vcard_file_items(*, only_vcards: bool = False) -> list[tuple[str, int]]:
    """(file name under formats/, item index) for every item of every corpus
    file with a vCard in it (``only_vcards``: the VCARD items only)."""
    if not FORMATS.is_dir():
        return []
    out = []
    for path in sorted(FORMATS.rglob("*")):
        name = str(path.relative_to(FORMATS))
        if not path.is_file() or name in SKIP or b"BEGIN:VCARD" not in path.read_bytes():
            continue
        items = parse_items(path.read_bytes())
        out += [(name, i) for i, c in enumerate(items) if not only_vcards or c.name.upper() == "VCARD"]
    return out
