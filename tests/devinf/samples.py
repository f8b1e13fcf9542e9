"""The DevInf samples of the corpus, loaded by name."""

from __future__ import annotations

import json
from pathlib import Path

from syncml_codec import Document, decode_wbxml, looks_like_wbxml, parse_xml
from syncml_codec.devinf import DevInf, find_devinf

from ..conftest import CORPUS, corpus_files

FIRST = "syncevolution/first-request"
# SyncEvolution's first message of each combination, as sent (WBXML, XML)
# and as libwbxml renders the WBXML ones (*.wbxml.xml)
FIRST_REQUESTS: list[Path] = corpus_files(FIRST, "*.wbxml") + corpus_files(FIRST, "*.xml")
# the server's answer to the first message of each session: Results with its DevInf
SERVER_RESULTS: list[Path] = [p for p in corpus_files("syncevolution/sessions", "*/1-a-first-sync/001-response.*")
                              if p.suffix in (".wbxml", ".xml")]
# every session's first exchange (the client sends Put DevInf in each session)
SESSION_DIRS: list[Path] = sorted(p for p in (CORPUS / "syncevolution" / "sessions").glob("*/*") if p.is_dir())
# libwbxml: 003/004 carry DevInf 1.1 (flat CTCap) in Put/Results, 011 is a standalone DevInf 1.1
LIBWBXML = ["syncml-003", "syncml-004", "syncml-011"]
LIBWBXML_FILES: list[Path] = [p for name in LIBWBXML for p in (
    corpus_files("libwbxml/syncml", f"{name}.xml") + corpus_files("libwbxml/gen", f"*/syncml/{name}.wbxml"))]


def rel(path: Path) -> str:
    return str(path.relative_to(CORPUS))


def load(path: Path) -> Document:
    data = path.read_bytes()
    return decode_wbxml(data) if looks_like_wbxml(data) else parse_xml(data)


def devinfs(path: Path) -> list[DevInf]:
    return [found.devinf for found in find_devinf(load(path))]


def combo(path: Path) -> dict[str, str]:
    """index.json's entry for a first-request file (store, format, ...)."""
    index = json.loads((CORPUS / FIRST / "index.json").read_text())
    name = path.name.split(".")[0]
    entry: dict[str, str] = index[name]
    return entry
