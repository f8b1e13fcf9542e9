"""Issue 9: ``formats.parse(data, type).convert(target)`` for every
registered target type, on both Versit implementations, over every corpus
item, the hand-made poison items (``convert_sweep.HOSTILE``) and seeded
mutations of the corpus.  Each conversion either gives bytes without a
Python repr in them (defect 6: ``VALARM:Node(name='VALARM', ...)``) or
raises an error of the ``SyncMLError`` tree that the converter raised
itself: an exception that the converters' boundary (``formats._guard``) had
to catch counts as a failure too.  The full mutation sweep is ``slow`` and
runs with ``SYNCML_CODEC_SLOW=1``; ``benchmarks/convert_fuzz_report.py``
times it."""

from __future__ import annotations

import os
import traceback

import pytest

from syncml_codec.formats import versit
from syncml_codec.formats.versit import Tokenizer

from . import convert_sweep as sweep

CORPUS = sweep.corpus_items()


@pytest.fixture
def impl(versit_impl: Tokenizer, monkeypatch: pytest.MonkeyPatch) -> Tokenizer:
    """Every ``formats.parse`` in the test runs on ``versit_impl``."""
    monkeypatch.setattr(versit, "_IMPL", versit_impl)
    return versit_impl


def failures(cases: list[sweep.Case]) -> list[str]:
    out: list[str] = []
    for case in cases:
        for target in sweep.targets():
            try:
                data = sweep.run(case, target)
            except Exception as exc:  # the point of the sweep: nothing else may escape
                where = traceback.extract_tb(exc.__traceback__)[-1]
                out.append(f"{case.name} -> {target}: {type(exc).__name__}: {str(exc)[:100]} "
                           f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
                continue
            if data is not None and sweep.REPR_LEAK.search(data) and not sweep.REPR_LEAK.search(case.data):
                out.append(f"{case.name} -> {target}: a Python repr in the output: "
                           f"{sweep.REPR_LEAK.search(data).group()!r}")  # type: ignore[union-attr]
    return out


@pytest.mark.skipif(not CORPUS, reason="no corpus beside the checkout")
def test_every_corpus_item_converts_to_every_type(impl: Tokenizer) -> None:
    assert failures(CORPUS) == []


def test_hostile_items_raise_only_format_errors(impl: Tokenizer) -> None:
    assert failures(sweep.hostile()) == []


@pytest.mark.skipif(not CORPUS, reason="no corpus beside the checkout")
def test_mutated_corpus_items_raise_only_format_errors(impl: Tokenizer) -> None:
    assert failures(sweep.mutated(CORPUS, seed=9, per_item=1)) == []


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("SYNCML_CODEC_SLOW"), reason="the full sweep (3 minutes): SYNCML_CODEC_SLOW=1")
@pytest.mark.skipif(not CORPUS, reason="no corpus beside the checkout")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_full_mutation_sweep(impl: Tokenizer, seed: int) -> None:
    assert failures(sweep.mutated(CORPUS, seed=seed)) == []


def test_hostile_list_covers_the_issue() -> None:
    names = {name for name, _data, _type in sweep.HOSTILE}
    assert {"photo-b64-non-ascii-30", "rrule-count-1x", "tzid-europe", "tzid-300", "vtimezone-huge-rdate",
            "rrule-hourly-bomb", "calendar-level-aalarm"} <= names
