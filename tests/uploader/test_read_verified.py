"""A file is handed over only when its size and SHA-256 are the approved ones, in memory or
through a temporary copy; a changed, grown or shrunk file is refused, naming it."""
from __future__ import annotations

import hashlib

import pytest

from uploader import stream
from uploader.plan import Item
from uploader.stream import FileChangedError, read_verified

APPROVED = bytes(range(256)) * 64


@pytest.fixture(params=["in-memory", "temporary-copy"])
def mode(request, monkeypatch):
    if request.param == "temporary-copy":
        monkeypatch.setattr(stream, "SPOOL_OVER", 100)
    return request.param


def _item(tmp_path, content: bytes) -> Item:
    (tmp_path / "S" / "E" / "1").mkdir(parents=True, exist_ok=True)
    (tmp_path / "S/E/1/f.dcm").write_bytes(content)
    return Item("S/E/1/f.dcm", len(APPROVED), hashlib.sha256(APPROVED).hexdigest())


def _bytes(data) -> bytes:
    if isinstance(data, bytes):
        return data
    with data:
        return data.read()


def test_the_approved_bytes_are_handed_over(tmp_path, mode):
    data = read_verified(tmp_path, _item(tmp_path, APPROVED))
    assert isinstance(data, bytes) == (mode == "in-memory")
    assert _bytes(data) == APPROVED


@pytest.mark.parametrize("content", [APPROVED[:-1] + b"\x00", APPROVED + b"!", APPROVED[:-1]],
                         ids=["one-byte-changed", "grown", "shrunk"])
def test_changed_grown_or_shrunk_is_refused(tmp_path, mode, content):
    with pytest.raises(FileChangedError, match="S/E/1/f.dcm changed since approval: stopped before it was sent"):
        read_verified(tmp_path, _item(tmp_path, content))


def test_a_vanished_file_is_a_clear_error(tmp_path, mode):
    item = _item(tmp_path, APPROVED)
    (tmp_path / item.rel).unlink()
    with pytest.raises(stream.UploadError, match="S/E/1/f.dcm: cannot be read"):
        read_verified(tmp_path, item)
