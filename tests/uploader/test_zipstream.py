"""The zip stream on its own: the files in order, each checked before its header, a zip that
zipfile reads back with every CRC-32, exactly ``len()`` bytes, and read-ahead held to the budget
(with files hashed two at a time, in memory and through temporary copies)."""
from __future__ import annotations

import hashlib
import io
import time
import zipfile
import zlib

import pytest

from uploader import stream
from uploader.plan import Item
from uploader.stream import FileChangedError, ZipStream

SIZES = [300_000, 0, 5_000, 900_000, 120_000, 70_000, 1, 450_000]


@pytest.fixture
def release(tmp_path):
    items = []
    for n, size in enumerate(SIZES):
        rel = f"SUBJ/SESS/1.2.{n % 3}/{n}.dcm"
        data = hashlib.sha256(str(n).encode()).digest() * (size // 32) + b"x" * (size % 32)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
        crc = zlib.crc32(data) if n % 2 else None  # some from the approval, some computed
        items.append(Item(rel, size, hashlib.sha256(data).hexdigest(), "", crc))
    return tmp_path, items


class _Watched(stream._Budget):
    peak = 0

    def _note(self):
        _Watched.peak = max(_Watched.peak, self.reserved + self.queued)

    def reserve(self, n, wait):
        ok = super().reserve(n, wait)
        self._note()
        return ok

    def hand_over(self, n):
        super().hand_over(n)
        self._note()

    def take(self, n):
        ok = super().take(n)
        self._note()
        return ok


@pytest.mark.parametrize("spool_over", [10 ** 9, 100_000], ids=["in-memory", "large-files-spooled"])
def test_the_stream_is_the_zip_of_the_checked_files_within_the_budget(release, monkeypatch, spool_over):
    folder, items = release
    monkeypatch.setattr(stream, "SPOOL_OVER", spool_over)
    monkeypatch.setattr(stream, "SLICE", 64_000)
    monkeypatch.setattr(stream, "AHEAD_BYTES", 500_000)
    monkeypatch.setattr(stream, "_Budget", _Watched)
    _Watched.peak = 0
    done = []
    zs = ZipStream(folder, items, then=lambda: done.append(True))
    parts = []
    for piece in zs:  # a slow sender: the producer runs ahead as far as the budget lets it
        parts.append(bytes(piece))
        time.sleep(0.002)
    blob = b"".join(parts)
    assert len(blob) == len(zs) and done == [True]
    z = zipfile.ZipFile(io.BytesIO(blob))
    assert z.testzip() is None
    assert [i.filename for i in z.infolist()] == ["/".join(i.rel.split("/")[2:]) for i in items]
    assert all(z.read(n) == (folder / i.rel).read_bytes() for n, i in zip(z.namelist(), items))
    # Held ahead of the sender: the budget, or one file alone larger than it (900 kB here).
    assert 0 < _Watched.peak <= max(500_000, max(s for s in SIZES if s <= spool_over))


def test_a_changed_file_ends_the_stream_before_its_header(release):
    folder, items = release
    victim = items[4]
    (folder / victim.rel).write_bytes(b"y" * victim.size)
    sent = bytearray()
    with pytest.raises(FileChangedError, match=f"{victim.rel} changed since approval"):
        for piece in ZipStream(folder, items):
            sent += piece
    assert (folder / items[3].rel).read_bytes()[-1000:] in sent  # the files before it went
    assert b"4.dcm" not in sent and b"y" * 64 not in sent  # not its header, not its bytes
