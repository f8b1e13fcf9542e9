"""The Cython extension and the pure-Python twin agree: equal output on the
corpus and on 10,000+ mutated copies, or the same exception class at the same
offset (WBXML) or line (XML).  Also: the twin's fast path equals its generic
path.  Nothing may crash or hang."""

from __future__ import annotations

import pytest

from syncml_codec.codec import _wbxml_py
from syncml_codec.codec._pywbxml.decoder import _generic_xml
from syncml_codec.codec._pywbxml.fast import _fast_xml

from ..conftest import cython_impl
from .corpus import WBXML_FILES, XML_FILES
from .mutations import outcome, variants

N_VARIANTS = 12_000


@pytest.fixture(scope="module")
def samples():
    if not WBXML_FILES:
        pytest.skip("corpus not found")
    # small and varied: libwbxml's samples (with and without string table),
    # the quirk files, and a few real SyncEvolution messages
    chosen = [p for p in WBXML_FILES if "libwbxml" in str(p)]
    chosen += [p for p in WBXML_FILES if "first-request" in str(p)][:4]
    chosen += [p for p in WBXML_FILES if "sessions" in str(p) and "response" in p.name][:6]
    return [p.read_bytes() for p in chosen]


@pytest.fixture(scope="module")
def wbxml_variants(samples):
    return list(variants(samples, N_VARIANTS))


def test_enough_variants(wbxml_variants):
    assert len(wbxml_variants) >= 10_000


@pytest.mark.parametrize("entry, kw", [
    ("wbxml_to_xml", {}),
    ("wbxml_to_xml", {"strict": True}),
    ("wbxml_to_xml", {"pretty": True}),
    ("decode", {}),
])
def test_mutated_wbxml(wbxml_variants, entry, kw):
    ext = cython_impl()
    c_fn, py_fn = getattr(ext, entry), getattr(_wbxml_py, entry)
    mismatches = []
    for data in wbxml_variants:
        a, b = outcome(c_fn, data, **kw), outcome(py_fn, data, **kw)
        if a != b:
            mismatches.append((data.hex(), a[:3] if a[0] == "error" else "ok",
                               b[:3] if b[0] == "error" else "ok"))
    assert not mismatches, f"{len(mismatches)} differ, first: {mismatches[:3]}"


def test_mutated_wbxml_reencodes_alike(wbxml_variants):
    ext = cython_impl()
    for data in wbxml_variants[::7]:
        try:
            doc = _wbxml_py.decode(data)
        except ValueError:
            continue
        for kw in ({}, {"string_table": True}):
            assert outcome(ext.encode, doc, **kw) == outcome(_wbxml_py.encode, doc, **kw)


def test_mutated_xml():
    ext = cython_impl()
    samples = [p.read_bytes() for p in XML_FILES if "libwbxml" in str(p)][:20]
    if not samples:
        pytest.skip("corpus not found")
    mismatches = []
    for data in variants(samples, 3000, seed=7):
        for kw in ({}, {"string_table": True}):
            a = outcome(ext.xml_to_wbxml, data, **kw)
            b = outcome(_wbxml_py.xml_to_wbxml, data, **kw)
            if a != b:
                mismatches.append((data[:80], a if a[0] == "error" else "ok", b if b[0] == "error" else "ok"))
    assert not mismatches, f"{len(mismatches)} differ, first: {mismatches[:3]}"


def test_corpus_parity():
    ext = cython_impl()
    for path in WBXML_FILES:
        data = path.read_bytes()
        assert ext.wbxml_to_xml(data) == _wbxml_py.wbxml_to_xml(data), path
        assert ext.wbxml_to_xml(data, pretty=True) == _wbxml_py.wbxml_to_xml(data, pretty=True), path
        assert ext.decode(data) == _wbxml_py.decode(data), path
    for path in XML_FILES:
        data = path.read_bytes()
        for kw in ({}, {"string_table": True}, {"wbxml_version": "1.0", "public_id": "text"},
                   {"charset": "iso-8859-1"}):
            assert ext.xml_to_wbxml(data, **kw) == _wbxml_py.xml_to_wbxml(data, **kw), (path, kw)


def test_fast_path_equals_generic_path(wbxml_variants):
    """The twin's fast path must never change what wbxml_to_xml returns."""
    taken = 0
    for data in wbxml_variants + [p.read_bytes() for p in WBXML_FILES]:
        fast = _fast_xml(data, False, 256)
        if fast is None:
            continue
        taken += 1
        assert fast == _generic_xml(data, False, False, 256), data.hex()
    assert taken > 500
