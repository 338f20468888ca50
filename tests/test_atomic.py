"""Issue 14 item 7 / docs/rules.md §21: `-o` on special files. A symlink is resolved and its target
replaced atomically; a device, FIFO or `-` is written through, never replaced; a regular file
keeps the atomic rename."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import polars as pl
import pytest
from builders import customer, invoke, store, vehicle

from crmtool.errors import CrmError
from crmtool.output.atomic import TMP_DIR, atomic_path, resolve, write_output

CSV = "vin\nV1\n"


@pytest.fixture(scope="module")
def dbfile(tmp_path_factory) -> Path:
    """One car, V1, sold by us to 张三 in 2019: the segment list is `vin\nV1\n`."""
    return store(
        tmp_path_factory.mktemp("atomic") / "crm.duckdb",
        customers=[customer("C1", "张三", "13800138000")],
        vehicles=[vehicle("V1", "迈腾", "2019-07-01", customer_id="C1")],
    )


def segment(dbfile: Path, *args: str):
    return invoke(
        "segment", "--columns", "vin", "--format", "csv", *args, db=dbfile, as_of="2022-06-30"
    )


def test_regular_file_is_replaced_by_a_new_file(dbfile, tmp_path):
    out = tmp_path / "list.csv"
    out.write_text("old")
    out.chmod(0o640)
    inode = out.stat().st_ino
    r = segment(dbfile, "-o", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == b"\xef\xbb\xbf" + CSV.encode()
    assert out.stat().st_ino != inode  # renamed into place, not rewritten in place
    assert stat.S_IMODE(out.stat().st_mode) == 0o640  # and it keeps its permissions
    assert not (tmp_path / TMP_DIR).exists()


def test_symlink_stays_a_link_and_its_target_is_replaced(dbfile, tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "calls.csv"
    target.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    r = segment(dbfile, "-o", str(link))
    assert r.exit_code == 0, r.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().endswith(CSV.encode())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real"]
    assert sorted(p.name for p in real_dir.iterdir()) == ["calls.csv"]  # temp folder gone


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "new.csv")
    write_output(link, b"x")
    assert link.is_symlink() and (tmp_path / "new.csv").read_bytes() == b"x"


def test_fifo_is_written_through_not_replaced(dbfile, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    r = segment(dbfile, "-o", str(fifo))
    reader.join(timeout=60)
    assert r.exit_code == 0, r.output
    assert got == [b"\xef\xbb\xbf" + CSV.encode()]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.csv"]


@pytest.mark.skipif(
    not hasattr(os, "mknod") or os.geteuid() != 0, reason="creating a device node needs root"
)
def test_char_device_is_written_through(dbfile, tmp_path):
    """A private copy of /dev/null (same major/minor) in the test folder: the real one is
    never written by a test."""
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = os.stat(node)
    for fmt in ("csv", "xlsx", "parquet", "json", "table"):
        r = segment(dbfile, "-o", str(node), "--format", fmt)
        assert r.exit_code == 0, r.output
    after = os.stat(node)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_dev_null_is_recognised_as_a_device_without_writing_it():
    assert resolve(Path("/dev/null")) == (Path("/dev/null"), True)


def test_dash_is_stdout(dbfile, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = segment(dbfile, "-o", "-")
    assert (r.exit_code, r.stdout) == (0, CSV)
    assert list(tmp_path.iterdir()) == []  # no file named '-'


def test_folder_as_output_is_one_line(tmp_path):
    with pytest.raises(CrmError, match="output is a folder, not a file"):
        write_output(tmp_path, b"x")


def test_atomic_path_temp_folder_is_private_and_removed(tmp_path):
    with atomic_path(tmp_path / "x.csv") as tmp:
        assert stat.S_IMODE(tmp.parent.stat().st_mode) == 0o700
        pl.DataFrame({"a": [1]}).write_csv(tmp)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]
