"""Every file lineage writes goes through lineage.output: devices and FIFOs are written to,
symlinks are followed, only regular files are replaced (atomically), failures are one line.

Devices are made with mknod in the test's own directory (a private copy of /dev/full and
/dev/null: same major/minor numbers), so a regression that replaces a device node replaces
the copy, never the machine's /dev/full. mknod needs root (CAP_MKNOD); without it those
cases skip.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from lineage.errors import InputError
from lineage.output import check_output, open_output, write_output


def device(path: Path, minor: int) -> Path:
    """A character device like /dev/null (minor 3) or /dev/full (minor 7), at ``path``."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


def is_char_device(path: Path) -> bool:
    return stat.S_ISCHR(os.lstat(path).st_mode)


class FifoReader:
    """Reads everything written into a FIFO, in a thread (opening it blocks until a writer)."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path, self.data = path, b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fh:
            self.data = fh.read()

    def result(self) -> bytes:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "nobody wrote to the FIFO"
        return self.data


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# -- the writer -----------------------------------------------------------------------------


def test_a_regular_file_is_replaced_whole_and_keeps_its_permissions(tmp_path):
    out = tmp_path / "chart.png"
    out.write_bytes(b"old")
    out.chmod(0o640)
    inode = out.stat().st_ino
    assert write_output(out, b"new content") == 11
    assert out.read_bytes() == b"new content"
    assert out.stat().st_ino != inode  # renamed over, not rewritten in place
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    out = tmp_path / "page.html"
    out.write_text("the old page")
    with pytest.raises(RuntimeError), open_output(out) as fh:
        fh.write(b"half a pa")
        raise RuntimeError("the renderer failed")
    assert out.read_text() == "the old page"
    assert leftovers(tmp_path) == []


def test_a_device_is_written_to_not_replaced(tmp_path):
    null = device(tmp_path / "null", 3)
    assert write_output(null, b"x" * 100_000) == 100_000
    assert is_char_device(null)
    full = device(tmp_path / "full", 7)
    with pytest.raises(InputError) as caught:
        write_output(full, b"x" * 100_000)
    assert str(caught.value) == f"cannot write {full}: no space left on device"
    assert is_char_device(full)
    assert leftovers(tmp_path) == []


def test_the_real_dev_null_and_dev_full(tmp_path):
    assert write_output("/dev/null", b"nothing") == 7
    with pytest.raises(InputError, match=r"^cannot write /dev/full: no space left on device$"):
        write_output("/dev/full", b"x")
    assert is_char_device(Path("/dev/full"))


def test_a_fifo_is_written_to_not_replaced(tmp_path):
    reader = FifoReader(tmp_path / "fifo")
    check_output(reader.path)  # checking does not open it (that would wait for a reader)
    write_output(reader.path, b"through the pipe")
    assert reader.result() == b"through the pipe"
    assert stat.S_ISFIFO(os.lstat(reader.path).st_mode)


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "chart.png"
    target.write_bytes(b"old")
    link = tmp_path / "chart.png"
    link.symlink_to(target)
    write_output(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    dangling = tmp_path / "later.png"
    dangling.symlink_to(tmp_path / "real" / "later.png")
    write_output(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "real" / "later.png").read_bytes() == b"made"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_paths_that_cannot_be_written_are_named_up_front(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    cases = {
        tmp_path / "missing" / "x.png": f"directory {tmp_path / 'missing'} does not exist",
        tmp_path: "it is a directory",
        a_file / "x.png": f"directory {a_file} does not exist",
        loop: "too many levels of symbolic links",
    }
    for path, why in cases.items():
        with pytest.raises(InputError) as caught:
            check_output(path)
        assert str(caught.value) == f"cannot write {path}: {why}"


# -- every file output of the CLI -----------------------------------------------------------


def outputs(toy_store: str, out: Path) -> dict[str, list[str]]:
    """Each command that writes a file, with that file at ``out``."""
    return {
        "export html": ["export", "html", "--store", toy_store, "--root", "Qwen", "-o", str(out)],
        "share --plot": ["share", "--store", toy_store, "--plot", str(out)],
        "families --plot": ["families", "--store", toy_store, "--plot", str(out)],
    }


def test_every_file_output_writes_through_a_device_and_a_fifo(run_cli, toy_store, tmp_path):
    for name in ("export html", "share --plot", "families --plot"):
        null = tmp_path / f"null-{name.replace(' ', '')}.png"
        device(null, 3)
        result = run_cli(*outputs(toy_store, null)[name])
        assert result.exit_code == 0, (name, result.stderr)
        assert is_char_device(null), name

        full = tmp_path / f"full-{name.replace(' ', '')}.png"
        device(full, 7)
        result = run_cli(*outputs(toy_store, full)[name])
        assert result.exit_code == 1, name
        assert result.stderr.splitlines()[-1] == (
            f"error: cannot write {full}: no space left on device"
        ), name
        assert is_char_device(full), name

        reader = FifoReader(tmp_path / f"fifo-{name.replace(' ', '')}.png")
        result = run_cli(*outputs(toy_store, reader.path)[name])
        assert result.exit_code == 0, (name, result.stderr)
        data = reader.result()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" or b"<!doctype html>" in data[:200].lower(), name
        assert stat.S_ISFIFO(os.lstat(reader.path).st_mode), name
    assert leftovers(tmp_path) == []


def test_every_file_output_follows_symlinks(run_cli, toy_store, tmp_path):
    (tmp_path / "real").mkdir()
    for name in ("export html", "share --plot", "families --plot"):
        slug = name.replace(" ", "").replace("-", "")
        target = tmp_path / "real" / f"{slug}.svg"
        link = tmp_path / f"{slug}.svg"
        link.symlink_to(target)
        args = outputs(toy_store, link)[name]
        result = run_cli(*args)
        assert result.exit_code == 0, (name, result.stderr)
        assert link.is_symlink(), name
        assert target.stat().st_size > 1000, name


def test_export_csv_files_go_through_the_writer(run_cli, toy_store, tmp_path):
    directory = tmp_path / "import"
    directory.mkdir()
    null = device(directory / "models.csv", 3)  # e.g. skipping the biggest file
    (tmp_path / "kept.csv").write_text("")
    (directory / "organizations.csv").symlink_to(tmp_path / "kept.csv")
    result = run_cli("neo4j", "export-csv", str(directory), "--store", toy_store, "-q")
    assert result.exit_code == 0, result.stderr
    assert is_char_device(null)
    assert (directory / "organizations.csv").is_symlink()
    assert (tmp_path / "kept.csv").read_text().count("\n") == 21  # the toy's organizations
    assert (directory / "derived_from.csv").stat().st_size > 0
    assert leftovers(directory) == []

    device(tmp_path / "full", 7)
    (directory / "derived_from.csv").unlink()
    (directory / "derived_from.csv").symlink_to(tmp_path / "full")
    result = run_cli("neo4j", "export-csv", str(directory), "--store", toy_store)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot write {directory / 'derived_from.csv'}: no space left on device\n"
    )
    assert result.stdout == ""  # no import command for files that were not written
