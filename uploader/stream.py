"""The approved bytes, checked as they are read: nothing of a file leaves before its SHA-256 matched
the approval manifest.

:func:`read_verified` reads a file once and compares its size and SHA-256 with the manifest
before handing the bytes over (in memory up to :data:`SPOOL_OVER`, larger files through a private
temporary copy, so a file changed afterwards is never what is sent). :class:`ZipStream` does that
for the DICOM files on a producer thread while the sending thread sends the files checked before
(hashlib releases the GIL on large buffers, so hashing file N+1 overlaps sending file N), as a
stored zip laid out in advance (:mod:`.storedzip`): exact Content-Length, each CRC-32 from the
approval, the files' bytes handed to the socket without a copy. A file that no longer matches
stops the stream before any byte of it, its zip header included: the request body ends short, the
server never sees a complete zip, and :class:`FileChangedError` says which file.
"""
from __future__ import annotations

import hashlib
import queue
import tempfile
import threading
import zlib
from pathlib import Path

from .errors import UploadError
from .plan import Item
from .storedzip import StoredZip

SPOOL_OVER = 64 << 20  #: files larger than this are checked through a temporary copy, not in memory
SLICE = 8 << 20  #: the largest piece handed to the sender at once
AHEAD = 8  #: pieces the producer may have ready (bounds memory to about AHEAD * SLICE + SPOOL_OVER)


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
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    data.write(chunk)
                    size += len(chunk)
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


def _slices(data):
    if isinstance(data, bytes):
        view = memoryview(data)
        for start in range(0, len(view), SLICE):
            yield view[start:start + SLICE]
        return
    with data:
        while chunk := data.read(SLICE):
            yield chunk


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
    size (the request goes with a Content-Length). Closing (or dropping) the iterator stops the
    producer thread; ``then`` runs on it once every byte is handed over (the uploader starts the
    remote check's MD5s there, when the approval did not record them)."""

    _END = object()

    def __init__(self, folder: Path, items: list[Item], then=None):
        self.folder, self.items, self.then = Path(folder), items, then
        self.layout = StoredZip([("/".join(i.rel.split("/")[2:]), i.size) for i in items])

    def __len__(self) -> int:
        return self.layout.size

    def __iter__(self):
        pieces: queue.Queue = queue.Queue(AHEAD)
        stop = threading.Event()
        thread = threading.Thread(target=self._produce, args=(pieces, stop), name="sdu-zip", daemon=True)
        thread.start()
        try:
            while True:
                piece = pieces.get()
                if piece is self._END:
                    return
                if isinstance(piece, BaseException):
                    raise piece
                yield piece
        finally:
            stop.set()
            thread.join()

    def _produce(self, pieces: queue.Queue, stop: threading.Event) -> None:
        def put(piece) -> bool:
            while not stop.is_set():
                try:
                    pieces.put(piece, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            crcs = []
            for index, item in enumerate(self.items):
                data = read_verified(self.folder, item)  # before a byte of it, its header included
                crc = item.crc32 if item.crc32 is not None else _crc32(data)
                crcs.append(crc)
                if not put(self.layout.local_header(index, crc)):
                    return
                for piece in _slices(data):
                    if not put(piece):
                        return
            if not (put(self.layout.central_directory(crcs)) and put(self._END)):
                return
        except BaseException as exc:  # noqa: BLE001 - handed to the sending thread, raised there
            put(exc)
            return
        if self.then is not None:
            self.then()
