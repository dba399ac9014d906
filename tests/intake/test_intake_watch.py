"""`sdu watch`: slow copies are imported only when complete; junk and damage are set aside."""
from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pydicom
from intake_helpers import SDU, dataset_bytes, stored_files
from pydicom.fileset import FileSet

from intake.store import Store
from intake.watcher import IMPORTED, REJECTED, FolderWatcher, WatchOptions
from sdu.site import load_site_key


def copy_slowly(src: Path, dest: Path, chunks: int = 6, pause: float = 0.25) -> None:
    data = src.read_bytes()
    step = len(data) // chunks + 1
    with open(dest, "wb") as f:
        for i in range(0, len(data), step):
            f.write(data[i : i + step])
            f.flush()
            time.sleep(pause)


def test_watch_process_imports_slow_copies_only_when_complete_and_sets_junk_aside(rt_study, tmp_path):
    drop, store = tmp_path / "drop", tmp_path / "store"
    drop.mkdir()
    (drop / "early").mkdir()
    shutil.copy(rt_study.rtplan, drop / "early" / "plan.dcm")  # there before the watcher starts
    log = open(tmp_path / "watch.log", "wb")
    proc = subprocess.Popen([*SDU, "watch", str(drop), "--store", str(store), "--settle-seconds", "1",
                             "--quiet-seconds", "1", "--json"], stdout=subprocess.PIPE, stderr=log)
    try:
        slow = rt_study.ct[:3]
        writers = [threading.Thread(target=copy_slowly, args=(p, drop / f"slow{i}.dcm")) for i, p in enumerate(slow)]
        for w in writers:
            w.start()
        time.sleep(0.6)  # mid-copy: partly written files must not be imported or rejected
        early = dataset_bytes(rt_study.rtplan)
        assert all(dataset_bytes(p) == early for p in stored_files(store))  # nothing half-copied taken
        assert not (drop / REJECTED).exists()
        for w in writers:
            w.join()
        shutil.copytree(rt_study.root / "RTSTRUCT", drop / "tree" / "rs")
        (drop / "notes.txt").write_text("export log, not DICOM\n")
        data = rt_study.ct[5].read_bytes()
        (drop / "cut.dcm").write_bytes(data[: len(data) // 2])  # a corrupt (truncated) DICOM file

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
                len(stored_files(store)) == 5 and len(list((drop / REJECTED).glob("*.reason.txt"))) == 2):
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        log.close()
    assert proc.returncode == 0
    report = json.loads(out)
    assert report["imported"] == 5 and len(report["rejected"]) == 2

    expected = {dataset_bytes(p) for p in [*slow, rt_study.rtplan, rt_study.rtstruct]}
    assert {dataset_bytes(p) for p in stored_files(store)} == expected  # complete copies only, once each
    reasons = {p.name: p.read_text() for p in (drop / REJECTED).glob("*.reason.txt")}
    assert set(reasons) == {"notes.txt.reason.txt", "cut.dcm.reason.txt"}
    assert "truncated" in reasons["cut.dcm.reason.txt"] or "damaged" in reasons["cut.dcm.reason.txt"]
    assert (drop / REJECTED / "notes.txt").read_text() == "export log, not DICOM\n"  # set aside, not lost
    moved = sorted(p.relative_to(drop / IMPORTED).as_posix() for p in (drop / IMPORTED).rglob("*.dcm"))
    assert moved == ["early/plan.dcm", "slow0.dcm", "slow1.dcm", "slow2.dcm", "tree/rs/RTSTRUCT.dcm"]
    assert not list(drop.rglob("*.dcm")) or all(".sdu-" in str(p) for p in drop.rglob("*.dcm"))
    assert b"complete" in (tmp_path / "watch.log").read_bytes()  # the study completed after the quiet time


def test_dicomdir_media_and_copy_mode_remembered(small_study, tmp_path):
    media = tmp_path / "media"
    fs = FileSet()
    for p in small_study.files:
        fs.add(pydicom.dcmread(p))
    fs.write(media)
    store = Store(tmp_path / "store", load_site_key())
    options = WatchOptions(copy=True, settle_seconds=0.2)
    report = FolderWatcher(media, store, options, logging.getLogger("test")).run_once()
    assert report.dicomdirs == 1 and report.imported == len(small_study.files) and not report.rejected
    assert (media / "DICOMDIR").exists()  # copy mode: media left as it was
    stored = {dataset_bytes(p) for p in stored_files(store.root)}
    assert len(stored) == len(small_study.files)
    # a second pass (a restarted watcher) remembers what it took: nothing is processed twice
    again = FolderWatcher(media, store, options, logging.getLogger("test")).run_once()
    assert again.imported == 0 and again.duplicates == 0 and again.dicomdirs == 0


def test_an_image_called_dicomdir_and_a_bare_data_set_are_imported(small_study, tmp_path):
    """Content decides, not the name: an image named DICOMDIR is an image; a data set written
    without preamble or file meta (older exports) is imported with the encoding it was written in."""
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(small_study.ct[0], drop / "DICOMDIR")
    ds = pydicom.dcmread(small_study.ct[1])
    del ds.file_meta
    ds.preamble = None
    ds.save_as(drop / "bare", enforce_file_format=False, implicit_vr=True, little_endian=True)
    assert (drop / "bare").read_bytes()[:2] == b"\x08\x00"  # no preamble, no file meta
    store = Store(tmp_path / "store", load_site_key())
    report = FolderWatcher(drop, store, WatchOptions(copy=True, settle_seconds=0.2),
                           logging.getLogger("test")).run_once()
    assert report.imported == 2 and report.dicomdirs == 0 and not report.rejected
    stored = {pydicom.dcmread(p).SOPInstanceUID for p in stored_files(store.root)}
    assert stored == {pydicom.dcmread(p).SOPInstanceUID for p in small_study.ct[:2]}
