"""io.files: what is not ours is never replaced, nothing hangs, nothing fills memory.

Every special file is made inside tmp_path (os.mkfifo, os.mknod); the system's /dev is never
touched. Device nodes need root: those tests say so when they skip (CI runs as root).
"""

from __future__ import annotations

import os
import stat
import threading
import time

import pytest
from guards import ROOT_ONLY, deadline, device

from circuitcli.core.syntax import CircuitError
from circuitcli.io.files import loads_json, read_json, read_text, write_atomic, write_file


@pytest.fixture
def no_hang():
    """Fail the test instead of blocking forever."""
    with deadline(10):
        yield


# ---- writing ----------------------------------------------------------------------------


def test_a_new_file_is_written_whole_and_no_temporary_file_is_left(tmp_path):
    target = tmp_path / "new.dot"
    write_file(str(target), b"digraph {}\n")
    assert target.read_bytes() == b"digraph {}\n"
    assert os.listdir(tmp_path) == ["new.dot"]


def test_an_existing_file_is_replaced_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "old.dot"
    target.write_text("old")
    target.chmod(0o640)
    before = os.stat(target).st_ino
    write_atomic(str(target), "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.stat(target).st_ino != before  # a rename, not a rewrite in place


def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path):
    real = tmp_path / "real.svg"
    real.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to("real.svg")
    write_file(str(link), b"new")
    assert link.is_symlink() and os.readlink(link) == "real.svg"
    assert real.read_text() == "new"


def test_a_dangling_symlink_creates_its_target_like_a_shell_redirect(tmp_path):
    link = tmp_path / "link.svg"
    link.symlink_to("made.svg")
    write_file(str(link), b"data")
    assert link.is_symlink()
    assert (tmp_path / "made.svg").read_bytes() == b"data"


def test_a_failed_write_names_the_file_given_not_our_temporary_file(tmp_path):
    target = tmp_path / "nonexistent" / "dir" / "x.svg"
    with pytest.raises(CircuitError) as info:
        write_file(str(target), b"data")
    message = info.value.message
    assert message.startswith(f"cannot write {target}: ")
    assert ".tmp" not in message and "\n" not in message


def test_a_directory_is_not_written_over(tmp_path):
    with pytest.raises(CircuitError, match="is a directory"):
        write_file(str(tmp_path), b"data")
    assert tmp_path.is_dir()


def test_a_fifo_with_a_reader_is_written_to_and_stays_a_fifo(tmp_path, no_hang):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []

    def reader():
        with open(fifo, "rb") as f:  # blocks until the writer comes
            got.append(f.read())

    thread = threading.Thread(target=reader)
    thread.start()
    data = b"x" * 300_000  # more than a pipe holds: the writer must wait for the reader
    for _ in range(500):  # until the thread has reached its open()
        try:
            write_file(str(fifo), data)
            break
        except CircuitError as err:
            assert "no process is reading" in err.message
            time.sleep(0.01)
    thread.join(5)
    assert got == [data]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_an_error_at_once_not_a_hang(tmp_path, no_hang):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(CircuitError, match="no process is reading from it"):
        write_file(str(fifo), b"data")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_pipe_reached_through_dev_fd_is_written_to_directly(tmp_path, no_hang):
    read_end, write_end = os.pipe()  # what `-o >(wc -c)` hands us
    try:
        write_file(f"/dev/fd/{write_end}", b"through the pipe")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"through the pipe"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    assert os.listdir(tmp_path) == []


def test_a_regular_file_behind_dev_fd_is_appended_to_not_renamed_over(tmp_path):
    target = tmp_path / "stdout.txt"  # `circuit ... -o /dev/stdout > stdout.txt`
    with open(target, "wb") as f:
        f.write(b"table\n")
        f.flush()
        before = os.fstat(f.fileno()).st_ino
        write_file(f"/dev/fd/{f.fileno()}", b"picture\n")
    assert os.stat(target).st_ino == before
    assert target.read_bytes() == b"table\npicture\n"


@ROOT_ONLY
def test_a_null_device_stays_a_device(tmp_path):
    null = device(tmp_path / "null", 3)
    write_file(null, b"discarded")
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert os.listdir(tmp_path) == ["null"]


@ROOT_ONLY
def test_a_full_device_gives_one_line_naming_it_and_stays_a_device(tmp_path):
    full = device(tmp_path / "full", 7)
    with pytest.raises(CircuitError) as info:
        write_file(full, b"data")
    assert info.value.message == f"cannot write {full}: No space left on device"
    assert stat.S_ISCHR(os.stat(full).st_mode)


@ROOT_ONLY
def test_a_symlink_to_a_device_writes_the_device_and_stays_a_link(tmp_path):
    null = device(tmp_path / "null", 3)
    link = tmp_path / "out.svg"
    link.symlink_to(null)
    write_file(str(link), b"data")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(null).st_mode)


# ---- reading ----------------------------------------------------------------------------


def test_a_regular_file_is_read(tmp_path):
    path = tmp_path / "c.circuit"
    path.write_text("x * y  # ünïcode\n", encoding="utf-8")
    assert read_text(str(path)) == "x * y  # ünïcode\n"


def test_a_fifo_is_refused_before_anything_blocks(tmp_path, no_hang):
    fifo = tmp_path / "c.circuit"
    os.mkfifo(fifo)
    with pytest.raises(CircuitError) as info:
        read_text(str(fifo))
    assert info.value.message == (f"{fifo} is a FIFO (named pipe), not a regular file; "
                                  "a circuit file must be one")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(CircuitError, match="is a directory, not a regular file"):
        read_text(str(tmp_path))


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(CircuitError, match="no such file"):
        read_text(str(tmp_path / "absent.circuit"))


@ROOT_ONLY
@pytest.mark.parametrize("minor", [3, 5, 7])
def test_a_device_or_a_link_to_one_is_refused(tmp_path, minor, no_hang):
    dev = device(tmp_path / "dev", minor)
    link = tmp_path / "c.circuit"
    link.symlink_to(dev)
    for path in (dev, str(link)):
        with pytest.raises(CircuitError, match="is a character device, not a regular file"):
            read_text(path)


def test_the_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.circuit"
    path.write_bytes(b"x" * 1001)
    assert read_text(str(path), limit=1001) == "x" * 1001
    with pytest.raises(CircuitError, match="1001 bytes, larger than the 1000 bytes"):
        read_text(str(path), limit=1000)


def test_bytes_that_are_not_utf8_say_where(tmp_path):
    path = tmp_path / "c.circuit"
    path.write_bytes(b"x * y\n\xff")
    with pytest.raises(CircuitError, match=r"not UTF-8 text \(byte 6\)"):
        read_text(str(path))


# ---- JSON the decoder cannot take --------------------------------------------------------

HOSTILE_JSON = {
    "400 digits (float() overflows)": "[" + "1" * 400 + "]",
    "5001 digits (int()'s digit limit)": '{"v": ' + "7" * 5001 + "}",
    "100000 nested lists (recursion)": "[" * 100_000 + "]" * 100_000,
    "1e400 (would silently be inf)": '{"v": 1e400}',
}


@pytest.mark.parametrize("text", HOSTILE_JSON.values(), ids=HOSTILE_JSON.keys())
def test_read_json_refuses_what_the_decoder_cannot_take_and_leaves_the_file(tmp_path, text):
    path = tmp_path / "params.json"
    path.write_text(text)
    with pytest.raises(CircuitError) as info:
        read_json(str(path), "parameter file")
    message = info.value.message
    assert message.startswith(f"{path}: not a valid parameter file (")
    assert "\n" not in message and len(message) < 200
    assert path.read_text() == text


def test_loads_json_keeps_every_number_a_double_holds():
    # 1.7976931348623157e308 is the largest double; 309 digits of 9 are just past it
    assert loads_json('[1.7976931348623157e308, -5e-324, 12, 1e-400]') == [
        1.7976931348623157e308, -5e-324, 12, 0.0]
    assert loads_json("1" + "0" * 300) == 10**300
    for too_big in ("-" + "9" * 310, "9" * 309):  # 9.99e308 has 309 digits
        with pytest.raises(ValueError, match="too large for a double"):
            loads_json(too_big)


def test_graph_to_a_device_without_an_extension_writes_the_tree(tmp_path, run):
    # as `> /dev/null` would: no extension to pick a format from, so the default (tree)
    stat_module = stat
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root (CI runs as root)")
    null = tmp_path / "null"
    os.mknod(null, stat_module.S_IFCHR | 0o666, os.makedev(1, 3))
    r = run("graph", "x*y", "x=1", "y=2", "-o", str(null), "--no-session")
    assert r.exit_code == 0, r.output
    assert stat_module.S_ISCHR(os.stat(null).st_mode)  # still the device
