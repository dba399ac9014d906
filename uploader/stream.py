"""The approved bytes, checked as they are read: nothing of a file leaves before its SHA-256 matched
the approval manifest.

:func:`read_verified` reads a file once and compares its size and SHA-256 with the manifest
before handing the bytes over (in memory up to :data:`SPOOL_OVER`, larger files through a private
temporary copy, so a file changed afterwards is never what is sent). :class:`ZipStream` does that
for the DICOM files on a producer thread, which also writes each checked file into a stored zip
(zipfile computes the CRC-32 there), while the sending thread sends the bytes made before: hashlib
and zlib release the GIL on large buffers, so hashing file N+1 overlaps sending file N. A file
that no longer matches stops the stream before any byte of it: the request body ends early, the
server never sees a complete zip, and :class:`FileChangedError` says which file.
"""
from __future__ import annotations

import hashlib
import queue
import tempfile
import threading
import zipfile
from pathlib import Path

from .errors import UploadError
from .plan import Item

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


class _Sink:
    """Where zipfile writes (a stream it cannot seek: it writes data descriptors)."""

    def __init__(self):
        self.parts: list = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


class ZipStream:
    """Iterate for the bytes of a stored zip of ``items`` (zip names: the path below the
    subject/session folders), each file checked against the manifest first. Closing (or dropping)
    the iterator stops the producer thread; ``then`` runs on it once every byte is handed over
    (the uploader takes the remote check's MD5s there, while the server reads the zip)."""

    _END = object()

    def __init__(self, folder: Path, items: list[Item], then=None):
        self.folder, self.items, self.then = Path(folder), items, then
        self._queue: queue.Queue = queue.Queue(AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="sdu-zip", daemon=True)

    def __iter__(self):
        self._thread.start()
        try:
            while True:
                piece = self._queue.get()
                if piece is self._END:
                    return
                if isinstance(piece, BaseException):
                    raise piece
                if piece:
                    yield piece
        finally:
            self._stop.set()
            self._thread.join()

    def _put(self, piece) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(piece, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        sink = _Sink()
        try:
            with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as z:
                for item in self.items:
                    data = read_verified(self.folder, item)  # before a byte of it, its name included
                    name = "/".join(item.rel.split("/")[2:])
                    with z.open(name, "w", force_zip64=item.size > 1 << 31) as dst:
                        for piece in _slices(data):
                            dst.write(piece)
                            if not self._put(sink.take()):
                                return
            self._put(sink.take())
            self._put(self._END)
        except BaseException as exc:  # noqa: BLE001 - handed to the sending thread, raised there
            self._put(exc)
            return
        if self.then is not None:
            self.then()

