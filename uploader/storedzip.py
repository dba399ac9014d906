"""A stored (uncompressed) zip whose every byte is known before it is sent: the import service's
body, sent with a Content-Length and without copying the files' bytes.

The layout (APPNOTE.TXT 6.3.10: local file header 4.3.7, central directory header 4.3.12, end of
central directory 4.3.16, ZIP64 extra field 4.5.3, ZIP64 end record and locator 4.3.14-15) depends
only on the names and sizes, so :attr:`StoredZip.size` is exact before the first file is read.
Each CRC-32 goes into the local header, so no data descriptor follows the data; the CRC comes from
the approval record (taken with the SHA-256) or is computed from the checked bytes. Timestamps are
fixed at 1980-01-01 00:00: the archive carries no file times. Zip64 fields appear only where a size,
an offset or the entry count needs them.
"""
from __future__ import annotations

import struct

LIMIT = 0xFFFFFFFF  #: a size or offset at or above this: 0xFFFFFFFF in its field, the value in ZIP64 fields
ENTRY_LIMIT = 0xFFFF  #: an entry count at or above this: 0xFFFF, the count in the ZIP64 end record
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0


def _u32(value: int) -> int:
    return value if value < LIMIT else 0xFFFFFFFF


def _u16(value: int) -> int:
    return value if value < ENTRY_LIMIT else 0xFFFF


class StoredZip:
    def __init__(self, entries: list[tuple[str, int]]):
        self.names = [n.encode("utf-8") for n, _ in entries]
        self.sizes = [s for _, s in entries]
        self.offsets, pos = [], 0
        for name, size in zip(self.names, self.sizes):
            self.offsets.append(pos)
            pos += 30 + len(name) + len(self._local_extra(size)) + size
        self.cd_offset = pos
        self.cd_size = sum(46 + len(n) + len(self._central_extra(s, o))
                           for n, s, o in zip(self.names, self.sizes, self.offsets))
        self.size = self.cd_offset + self.cd_size + len(self._end())

    @staticmethod
    def _local_extra(size: int) -> bytes:
        return struct.pack("<HHQQ", 1, 16, size, size) if size >= LIMIT else b""

    @staticmethod
    def _central_extra(size: int, offset: int) -> bytes:
        values = ([size, size] if size >= LIMIT else []) + ([offset] if offset >= LIMIT else [])
        return struct.pack(f"<HH{len(values)}Q", 1, 8 * len(values), *values) if values else b""

    @staticmethod
    def _flags(name: bytes) -> int:
        return 0 if name.isascii() else 0x800  # bit 11: the name is UTF-8

    def local_header(self, index: int, crc: int) -> bytes:
        name, size = self.names[index], self.sizes[index]
        extra = self._local_extra(size)
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if extra else 20, self._flags(name), 0, _DOS_TIME,
                           _DOS_DATE, crc, _u32(size), _u32(size), len(name), len(extra)) + name + extra

    def central_directory(self, crcs: list[int]) -> bytes:
        parts = []
        for name, size, offset, crc in zip(self.names, self.sizes, self.offsets, crcs):
            extra = self._central_extra(size, offset)
            parts.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 45, 45 if extra else 20,
                                     self._flags(name), 0, _DOS_TIME, _DOS_DATE, crc, _u32(size), _u32(size),
                                     len(name), len(extra), 0, 0, 0, 0o100644 << 16, _u32(offset)) + name + extra)
        return b"".join(parts) + self._end()

    def _end(self) -> bytes:
        count = len(self.names)
        end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, _u16(count), _u16(count), _u32(self.cd_size),
                          _u32(self.cd_offset), 0)
        if count < ENTRY_LIMIT and self.cd_size < LIMIT and self.cd_offset < LIMIT:
            return end
        zip64_end_at = self.cd_offset + self.cd_size
        record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, self.cd_size,
                             self.cd_offset)
        locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_end_at, 1)
        return record + locator + end
