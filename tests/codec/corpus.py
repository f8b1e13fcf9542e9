"""The corpus files the codec tests run over, loaded by name."""

from __future__ import annotations

from pathlib import Path

from ..conftest import CORPUS, corpus_files

# WBXML: libwbxml's samples encoded by xml2wbxml (with and without string
# table) and every WBXML message of a real client (SyncEvolution) and server.
WBXML_FILES: list[Path] = (
    corpus_files("libwbxml/gen", "*/*/*.wbxml")
    + corpus_files("libwbxml/quirks", "*.wbxml")
    + corpus_files("syncevolution", "**/*.wbxml")
)
# XML: libwbxml's samples, the hand-made quirk files, SyncEvolution's XML
# traffic (not the libwbxml renderings, *.wbxml.xml, nor libwbxml's raw
# decodes of binary data, which are not well-formed XML).
XML_FILES: list[Path] = [
    p for p in (
        corpus_files("libwbxml/syncml", "*.xml")
        + corpus_files("libwbxml/ddf", "*")
        + corpus_files("libwbxml/quirks", "*.xml")
        + corpus_files("syncevolution", "**/*.xml")
    )
    if not p.name.endswith(".wbxml.xml") and "libwbxml-decoded" not in p.name
]


def rel(path: Path) -> str:
    return str(path.relative_to(CORPUS))
