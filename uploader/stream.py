"""The approved bytes, checked as they are read: nothing of a file leaves before its SHA-256 matched
the approval manifest.

:func:`read_verified` reads a file once and compares its size and SHA-256 with the manifest
before handing the bytes over (in memory up to :data:`SPOOL_OVER`, larger files through a private
temporary copy, so a file changed afterwards is never what is sent). :class:`ZipStream` does that
for the DICOM files ahead of the sending thread, two files at a time (hashlib releases the GIL on
large buffers, so hashing files N+1 and N+2 overlaps sending file N), within a read-ahead
budget, as a stored zip laid out in advance (:mod:`.storedzip`): exact Content-Length, each
CRC-32 from the approval, the files' bytes handed to the socket without a copy. A file that no longer matches
stops the stream before any byte of it, its zip header included: the request body ends short, the
server never sees a complete zip, and :class:`FileChangedError` says which file.
"""
from __future__ import annotations

import hashlib
import queue
import tempfile
import threading
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import UploadError
from .plan import Item
from .storedzip import StoredZip

SPOOL_OVER = 64 << 20  #: files larger than this are checked through a temporary copy, not in memory
SLICE = 8 << 20  #: the largest piece handed to the sender at once
AHEAD_BYTES = 64 << 20  #: bytes read ahead of the sender (more only for one file alone, up to SPOOL_OVER)
HASHERS = 2  #: files read and hashed at once, ahead of the sender


class FileChangedError(UploadError):
    """A file's bytes no longer match the approval: stopped before any byte of it was sent."""


def read_verified(folder: Path, item: Item):
    """The bytes of ``item`` (``bytes``, or a binary file positioned at 0 for a large file), after
    its size and SHA-256 matched the manifest; :class:`FileChangedError` otherwise."""
    path = Path(folder) / item.rel
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            if item.size <= SPOOL_OVER:
                data = f.read(item.size + 1)
                digest.update(data)
                size = len(data)
            else:
                data = tempfile.TemporaryFile()  # 0600 and already unlinked
                size = 0
                while size <= item.size and (chunk := f.read(min(1 << 20, item.size + 1 - size))):
                    digest.update(chunk)
                    data.write(chunk)
                    size += len(chunk)  # one byte past the approved size is enough to refuse
                data.seek(0)
    except OSError as exc:
        raise UploadError(f"{item.rel}: cannot be read ({type(exc).__name__}): stopped before it was sent",
                          path=folder) from None
    if size != item.size or digest.hexdigest() != item.sha256:
        if not isinstance(data, bytes):
            data.close()
        raise FileChangedError(f"{item.rel} changed since approval: stopped before it was sent; "
                               "verify and approve again", path=folder)
    return data


def _slices(data: bytes):
    view = memoryview(data)
    for start in range(0, len(view), SLICE):
        yield view[start:start + SLICE]


def _crc32(data) -> int:
    if isinstance(data, bytes):
        return zlib.crc32(data)
    crc = 0
    while chunk := data.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
    data.seek(0)
    return crc


class ZipStream:
    """The bytes of a stored zip of ``items`` (zip names: the path below the subject/session
    folders), each file checked against the manifest before its header. ``len()`` is the exact
    size (the request goes with a Content-Length). A producer thread reads and checks the files
    ahead of the sender, within :data:`AHEAD_BYTES`. Closing (or dropping) the iterator stops it;
    ``then`` runs on it once every byte is handed over (the uploader starts the remote check's MD5s
    there, when the approval did not record them)."""

    _END = object()

    def __init__(self, folder: Path, items: list[Item], then=None):
        self.folder, self.items, self.then = Path(folder), items, then
        self.layout = StoredZip([("/".join(i.rel.split("/")[2:]), i.size) for i in items])

    def __len__(self) -> int:
        return self.layout.size

    def __iter__(self):
        pieces: queue.SimpleQueue = queue.SimpleQueue()
        budget = _Budget(AHEAD_BYTES)
        thread = threading.Thread(target=self._produce, args=(pieces, budget), name="sdu-zip", daemon=True)
        thread.start()
        try:
            while True:
                got = pieces.get()
                if got is self._END:
                    return
                if isinstance(got, BaseException):
                    raise got
                piece, release = got
                if piece:
                    yield piece
                if release:
                    budget.give(release)  # sent: its memory may be used for the files ahead
        finally:
            budget.stop()
            thread.join()

    def _produce(self, pieces: queue.SimpleQueue, budget: "_Budget") -> None:
        try:
            crcs: list[int] = []
            todo = deque(enumerate(self.items))
            pending: deque = deque()  # files being read and hashed: (index, item, future, bytes reserved)
            with ThreadPoolExecutor(HASHERS, thread_name_prefix="sdu-sha256") as pool:
                while todo or pending:
                    # Read and hash files ahead, within the budget; wait for room only with no file
                    # in hand (then the budget holds only bytes handed to the sender, which it frees).
                    while todo and len(pending) < HASHERS:
                        index, item = todo[0]
                        need = item.size if item.size <= SPOOL_OVER else 0
                        if not budget.reserve(need, wait=not pending):
                            break
                        todo.popleft()
                        pending.append((index, item, pool.submit(read_verified, self.folder, item), need))
                    if budget.stopped:
                        return
                    index, item, future, need = pending.popleft()
                    data = future.result()  # checked before a byte of it, its header included, is put
                    crc = item.crc32 if item.crc32 is not None else _crc32(data)
                    crcs.append(crc)
                    budget.hand_over(need)
                    pieces.put((self.layout.local_header(index, crc), 0))
                    if isinstance(data, bytes):
                        slices = list(_slices(data))
                        for n, piece in enumerate(slices, 1):
                            pieces.put((piece, need if n == len(slices) else 0))  # the buffer goes with the last
                        continue
                    with data:
                        while budget.take(SLICE):
                            chunk = data.read(SLICE)
                            pieces.put((chunk, SLICE))
                            if not chunk:
                                break
                        else:
                            return
            pieces.put((self.layout.central_directory(crcs), 0))
            pieces.put(self._END)
        except BaseException as exc:  # noqa: BLE001 - handed to the sending thread, raised there
            pieces.put(exc)
            return
        if self.then is not None:
            self.then()


class _Budget:
    """Bytes read ahead of the sender: ``reserved`` for files being read and hashed, ``queued``
    once handed to the sender, at most ``limit`` together (or one file, whatever its size)."""

    def __init__(self, limit: int):
        self.limit, self.reserved, self.queued, self.stopped = limit, 0, 0, False
        self._cond = threading.Condition()

    def _room(self, n: int) -> bool:
        held = self.reserved + self.queued
        return not held or held + n <= self.limit

    def reserve(self, n: int, wait: bool) -> bool:
        """Room for a file to read; without ``wait``, False at once when there is none."""
        with self._cond:
            if wait:
                self._cond.wait_for(lambda: self.stopped or self._room(n))
            if self.stopped or not self._room(n):
                return False
            self.reserved += n
            return True

    def hand_over(self, n: int) -> None:
        with self._cond:
            self.reserved -= n
            self.queued += n

    def take(self, n: int) -> bool:
        """Room for a piece of a large file (waits only for bytes the sender holds)."""
        with self._cond:
            self._cond.wait_for(lambda: self.stopped or not self.queued or self._room(n))
            if self.stopped:
                return False
            self.queued += n
            return True

    def give(self, n: int) -> None:
        with self._cond:
            self.queued -= n
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self.stopped = True
            self._cond.notify_all()
