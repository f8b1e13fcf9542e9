"""Issue 13, red team: the backup area under many sessions at once
(processes finishing on the same day with the same prefix), a planted
name at the end of the counter, and hostile account names."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from syncml_codec.store.backups import BackupArea, BackupItem, safe_component

WHEN = 1_700_000_000.0
DAY = time.strftime("%Y%m%d", time.gmtime(WHEN))
CARD = b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\r\nEND:VCARD\r\n"


def _one_backup(root: str, n: int) -> str:
    area = BackupArea(root)
    session = f"s{os.getpid()}x{n}"
    size = 0
    for i in range(3):
        size = area.append("test", session, "Contacts", size, BackupItem(CARD.replace(b"FN:A", f"FN:{n}-{i}".encode())))
    backup, _ = area.finish("test", session, "Contacts", size, "p", WHEN)
    return backup.path.name


def test_many_processes_finishing_at_once_get_distinct_names(tmp_path: Path) -> None:
    root = str(tmp_path / "b")
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctx.Pool(4) as pool:
        names = pool.starmap(_one_backup, [(root, n) for n in range(24)])
    assert len(set(names)) == 24
    assert sorted(names) == [f"p{DAY}{n:04d}.vcf" for n in range(1, 25)]
    area = BackupArea(root)
    contents = sorted(b.path.read_bytes() for b in area.backups("test"))
    assert len(set(contents)) == 24  # each file is one session's, whole
    assert not [p for p in (Path(root) / "test" / "Contacts").iterdir() if p.name.startswith(".tmp")]


def test_a_planted_last_counter_fails_cleanly_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    area = BackupArea(tmp_path / "b")
    folder = area.account_dir("test") / "Contacts"
    folder.mkdir(parents=True)
    (folder / f"p{DAY}9999.tar").write_bytes(b"")
    size = area.append("test", "s1", "Contacts", 0, BackupItem(CARD))
    with pytest.raises(OSError, match="no free backup name"):
        area.finish("test", "s1", "Contacts", size, "p", WHEN)
    assert sorted(p.name for p in folder.iterdir()) == [f"p{DAY}9999.tar"]  # no temporary file left


@pytest.mark.parametrize("name", ["..", ".", "a/b", "a\\b", "a\x00b", "é" * 200, "%2F", "CON", "a" * 10_000,
                                  "x@dom/../../etc", "\udcff"])
def test_hostile_account_names_are_one_safe_component(tmp_path: Path, name: str) -> None:
    part = safe_component(name)
    assert part not in ("", ".", "..") and "/" not in part and "\\" not in part and "\x00" not in part
    assert not part.startswith(".") and len(part) <= 120
    area = BackupArea(tmp_path / "b")
    assert area.account_dir(name).parent == area.root
