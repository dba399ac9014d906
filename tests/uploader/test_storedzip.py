"""The stored zip laid out in advance: exact size before any byte, readable by zipfile (CRC-32s
checked), no data descriptors, no file times, ZIP64 fields where sizes, offsets or the count need
them."""
from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from uploader import storedzip
from uploader.storedzip import StoredZip


def _build(entries: list[tuple[str, bytes]]) -> tuple[StoredZip, bytes]:
    layout = StoredZip([(name, len(data)) for name, data in entries])
    crcs = [zlib.crc32(data) for _, data in entries]
    parts = []
    for i, (_, data) in enumerate(entries):
        parts += [layout.local_header(i, crcs[i]), data]
    parts.append(layout.central_directory(crcs))
    return layout, b"".join(parts)


ENTRIES = [("1.2.3/CT.1.dcm", bytes(range(256)) * 40), ("1.2.3/empty.dcm", b""),
           ("RTSTRUCT/Prüfung.dcm", b"DICM" * 1000), ("x.dcm", b"\x00")]


def _read_back(blob: bytes, entries) -> zipfile.ZipFile:
    z = zipfile.ZipFile(io.BytesIO(blob))
    assert z.testzip() is None  # every CRC-32 matches its data
    assert [(i.filename, z.read(i)) for i in z.infolist()] == entries
    for info in z.infolist():
        assert info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x08  # no data descriptor
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
    return z


def test_the_size_is_known_before_any_byte_and_zipfile_reads_it_back():
    layout, blob = _build(ENTRIES)
    assert layout.size == len(blob)
    z = _read_back(blob, ENTRIES)
    assert z.getinfo("RTSTRUCT/Prüfung.dcm").flag_bits & 0x800  # UTF-8 name flagged
    assert not z.getinfo("x.dcm").flag_bits & 0x800


def test_a_wrong_crc_is_caught_by_the_reader():
    layout = StoredZip([("a.dcm", 3)])
    blob = layout.local_header(0, 1234) + b"abc" + layout.central_directory([1234])
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(blob)).read("a.dcm")


def test_zip64_fields_where_sizes_offsets_and_the_count_need_them(monkeypatch):
    # The same code paths as a session over 4 GiB or 65,535 files, at test scale.
    monkeypatch.setattr(storedzip, "LIMIT", 3000)
    monkeypatch.setattr(storedzip, "ENTRY_LIMIT", 3)
    layout, blob = _build(ENTRIES)
    assert layout.size == len(blob)
    assert b"PK\x06\x06" in blob and b"PK\x06\x07" in blob  # ZIP64 end record and locator
    z = _read_back(blob, ENTRIES)
    assert z.getinfo("1.2.3/CT.1.dcm").file_size == 10240
    assert z.getinfo("x.dcm").header_offset > 3000
