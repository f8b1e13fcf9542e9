"""README's two commands stay true: .ci/run runs its test command exactly,
and the main job's sample exists and decodes."""

from __future__ import annotations

import re

from syncml_codec import parse_xml, wbxml_to_xml

from .conftest import ROOT


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## The two commands", 1)[1].split("\n## ", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_ci_runs_the_readme_test_command():
    _, tests = readme_commands()
    assert tests in (ROOT / ".ci" / "run").read_text().splitlines()
    assert "SYNCML_CODEC_REQUIRE_EXTENSION=1" in (ROOT / ".ci" / "run").read_text()


def test_main_job_sample_decodes_to_the_xml_next_to_it():
    main_job, _ = readme_commands()
    sample = re.search(r"syncml decode (\S+)", main_job).group(1)
    data = (ROOT / sample).read_bytes()
    assert parse_xml(wbxml_to_xml(data)) == parse_xml((ROOT / "examples" / "sync-request.xml").read_bytes())
