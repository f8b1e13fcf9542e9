"""Message throughput of the model layer: WBXML bytes -> Message and
Message -> WBXML bytes, per implementation, in one run.

    pytest benchmarks/test_model.py --benchmark-group-by=group

Each round converts libwbxml's SyncML messages once (all but the DevInf
document and the two fragments).  ``cython`` is the public API
(``Message.from_bytes`` / ``to_bytes``) with the extension in use;
``python`` is the same API's pure-Python path.  ``benchmarks/compare.py``
prints these next to libwbxml with the targets (2x its WBXML->XML, 5x its
XML->WBXML).
"""

from __future__ import annotations

import _contenders as K
import pytest

CONTENDERS = K.message_contenders()


@pytest.fixture(scope="session")
def message_corpus():
    data = K.message_inputs()
    if not data:
        pytest.skip(f"corpus not found under {K.LIBWBXML_CORPUS}")
    return data


def _all(fn, inputs):
    for item in inputs:
        fn(item)


@pytest.mark.benchmark(group="WBXML->Message")
@pytest.mark.parametrize("name", list(CONTENDERS))
def test_from_bytes(benchmark, message_corpus, name):
    benchmark(_all, CONTENDERS[name][0], message_corpus)


@pytest.mark.benchmark(group="Message->WBXML")
@pytest.mark.parametrize("name", list(CONTENDERS))
def test_to_bytes(benchmark, message_corpus, name):
    read, write = CONTENDERS[name]
    messages = [read(data) for data in message_corpus]
    benchmark(_all, write, messages)
