"""Message throughput of the codecs, contenders side by side in one run.

    pytest benchmarks --benchmark-group-by=group

Each round converts libwbxml's 16-message corpus once; messages/s is
16 / mean.  ``benchmarks/compare.py`` prints the same comparison as a
table with ratios and the targets.
"""

from __future__ import annotations

import _contenders as K
import pytest

IMPLS = K.implementations()
LIB = K.libwbxml()


def _all(fn, inputs):
    for data in inputs:
        fn(data)


@pytest.mark.benchmark(group="WBXML->XML")
@pytest.mark.parametrize("name", list(IMPLS))
def test_wbxml_to_xml(benchmark, wbxml_corpus, name):
    benchmark(_all, IMPLS[name].wbxml_to_xml, wbxml_corpus)


@pytest.mark.benchmark(group="WBXML->XML")
@pytest.mark.skipif(LIB is None, reason="libwbxml2 not installed")
def test_wbxml_to_xml_libwbxml(benchmark, wbxml_corpus):
    benchmark(_all, LIB.wbxml_to_xml, wbxml_corpus)


@pytest.mark.benchmark(group="XML->WBXML")
@pytest.mark.parametrize("name", list(IMPLS))
def test_xml_to_wbxml(benchmark, xml_corpus, name):
    benchmark(_all, IMPLS[name].xml_to_wbxml, xml_corpus)


@pytest.mark.benchmark(group="XML->WBXML")
@pytest.mark.skipif(LIB is None, reason="libwbxml2 not installed")
def test_xml_to_wbxml_libwbxml(benchmark, xml_corpus):
    benchmark(_all, LIB.xml_to_wbxml, xml_corpus)


@pytest.mark.benchmark(group="XML->WBXML")
def test_lxml_parse_serialize(benchmark, xml_corpus):
    benchmark(_all, K.lxml_round_trip(), xml_corpus)


@pytest.mark.benchmark(group="WBXML->tree")
@pytest.mark.parametrize("name", list(IMPLS))
def test_decode_tree(benchmark, wbxml_corpus, name):
    benchmark(_all, IMPLS[name].decode, wbxml_corpus)
