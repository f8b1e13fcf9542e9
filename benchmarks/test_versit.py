"""Versit parse + serialize throughput: our tokenizer (Cython, pure Python)
and vobject side by side in one run.

    pytest benchmarks/test_versit.py --benchmark-group-by=group

Each round parses and serializes 1,000 generated contacts (vCard 2.1 with
QUOTED-PRINTABLE, vCard 3.0), one item at a time as a sync server does;
contacts/s is 1000 / mean.  ``benchmarks/versit_compare.py`` prints the
10,000-contact comparison with ratios.  vobject rows are skipped when it is
not installed (``pip install vobject``).
"""

from __future__ import annotations

import _versit as V
import pytest

VERSIONS = ("2.1", "3.0")
TOKENIZERS = V.tokenizers()
VOBJECT = V.vobject_module()
N = 1000


@pytest.fixture(scope="module", params=VERSIONS)
def contacts(request):
    return request.param, V.contacts(request.param, N)


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_ours_per_item(benchmark, contacts, name):
    version, items = contacts
    benchmark.group = f"vCard {version} parse+serialize"
    out = benchmark(V.ours(TOKENIZERS[name]), items)
    assert out == items


@pytest.mark.parametrize("name", list(TOKENIZERS))
def test_ours_whole_file(benchmark, contacts, name):
    version, items = contacts
    benchmark.group = f"vCard {version} parse+serialize"
    data = b"".join(items)
    assert benchmark(V.ours_file(TOKENIZERS[name]), data) == data


@pytest.mark.skipif(VOBJECT is None, reason="vobject not installed (pip install vobject)")
def test_vobject_per_item(benchmark, contacts):
    version, items = contacts
    benchmark.group = f"vCard {version} parse+serialize"
    benchmark.pedantic(V.vobject_items(VOBJECT), (items,), rounds=3, iterations=1)
