"""Differential testing against NRG's DicomEdit 6.6.0 engine (the ``de6`` oracle in shared/).

The same script and the same file go through SDU's interpreter (``load_script(...).apply(ds)``,
the Dataset API) and through ``de6 --batch -`` (one JVM kept for the whole test session, fed
jobs on standard input, one result line per job). Both results are read back with pydicom and
every element is compared: tag path, VR and value as written (strings without their padding).
"error" on both sides is agreement; the messages are not compared.
"""
from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.multival import MultiValue

from anonymiser.dicomedit import ScriptContext, load_script

REPO = Path(__file__).resolve().parents[2]
VARIABLES = {"project": "P1", "subject": "S01", "session": "S01_MR1"}  # what XNAT supplies
INPUTS = ["CT_small.dcm", "MR_small.dcm", "rtstruct.dcm", "rtplan.dcm", "rtdose.dcm"]
# newUID (2.25.<UUID>) and mapUID (<prefix>.<UUID>): random in the engine by design
RANDOM_UID = re.compile(r"2\.25\.\d+|(?<=\.)\d{30,40}(?![\d.])")
RANDOM_UID_BYTES = re.compile(rb"2\.25\.\d+|(?<=\.)\d{30,40}(?![\d.])")


def oracle_dir() -> Path | None:
    candidates = []
    if os.environ.get("SDU_SHARED"):
        candidates.append(Path(os.environ["SDU_SHARED"]) / "oracles" / "dicomedit6")
    candidates.append(REPO.parent / "shared" / "oracles" / "dicomedit6")
    for c in candidates:
        if (c / "de6").is_file():
            return c
    return None


def unavailable_reason() -> str | None:
    if oracle_dir() is None:
        return "NRG's DicomEdit 6 oracle is absent (../shared/oracles/dicomedit6, or $SDU_SHARED/oracles/dicomedit6)"
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            return f"the DicomEdit 6 oracle needs a JDK: {tool} not found"
    return None


def input_files() -> dict[str, Path]:
    from pydicom.data import get_testdata_file
    return {name: Path(get_testdata_file(name)) for name in INPUTS}


# ---- the engine ---------------------------------------------------------------------------------
class Oracle:
    """One ``de6 --batch -`` process; :meth:`run` sends jobs and reads one result line each."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.count = 0
        self.stderr = open(workdir / "de6.stderr", "w")
        self.proc = subprocess.Popen([str(oracle_dir() / "de6"), "--batch", "-"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr, text=True, encoding="utf-8",
                                     bufsize=1, cwd=workdir)

    def run(self, jobs: list[tuple[str, Path, dict]]) -> list[tuple[str, object]]:
        """``[(script_text, input, variables)]`` -> ``[("ok", Dataset) | ("error", message)]``."""
        lines, outs = [], []
        for text, src, variables in jobs:
            self.count += 1
            script = self.workdir / f"s{self.count}.das"
            script.write_text(text, encoding="utf-8")
            out = self.workdir / f"o{self.count}.dcm"
            pairs = ";".join(f"{k}={v}" for k, v in variables.items())
            lines.append(f"{script}\t{src}\t{out}\t{pairs}\n")
            outs.append(out)
        writer = threading.Thread(target=self._write, args=(lines,), daemon=True)
        writer.start()
        results = []
        for out in outs:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the de6 oracle stopped (see de6.stderr in the work folder)")
            status, _, rest = line.rstrip("\n").partition(" ")
            if status == "ok":
                results.append(("ok", pydicom.dcmread(out, force=True)))
                out.unlink()
            else:
                results.append(("error", rest))
        writer.join()
        return results

    def _write(self, lines):
        for line in lines:
            self.proc.stdin.write(line)
        self.proc.stdin.flush()

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.stderr.close()


# ---- SDU ------------------------------------------------------------------------------------------
def run_sdu(text: str, src: Path, variables: dict) -> tuple[str, object]:
    """SDU's interpreter on a fresh copy of ``src``, written and read back as the engine's is."""
    ds = pydicom.dcmread(src, force=True)
    try:
        load_script(text, "differential.das").apply(ds, ScriptContext(variables=dict(variables)))
    except Exception as exc:  # ScriptError is the expected kind; anything else is still "error"
        return "error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    buf = io.BytesIO()
    try:
        meta = ds.file_meta if "TransferSyntaxUID" in getattr(ds, "file_meta", Dataset()) else None
        implicit = meta is not None and meta.TransferSyntaxUID == pydicom.uid.ImplicitVRLittleEndian
        implicit = implicit or (meta is None and ds.original_encoding[0] is True)
        dcmwrite(buf, ds, implicit_vr=implicit, little_endian=True)
        buf.seek(0)
        out = pydicom.dcmread(buf, force=True)
    except Exception as exc:
        return "error", f"cannot write the result ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    out.file_meta = getattr(ds, "file_meta", Dataset())
    return "ok", out


# ---- comparing ------------------------------------------------------------------------------------
_META_SKIPPED = {0x00020000, 0x00020001, 0x00020003}  # written by the file writer, not by the script


def _norm(elem):
    value = elem.value
    if value is None:
        return ""
    if elem.VR == "SQ":
        return len(value)
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value)
        if elem.tag == 0x7FE00010 or len(value) > 256:
            import hashlib
            return "sha1:" + hashlib.sha1(value).hexdigest()
        return value.rstrip(b"\0 ")
    if isinstance(value, (MultiValue, list, tuple)):
        return tuple(_scalar(v) for v in value)
    return _scalar(value)


def _scalar(v):
    if isinstance(v, (int, float)):
        return float(v)
    return str(v).rstrip("\0 ")


def snapshot(ds: Dataset, with_meta: bool = True) -> dict[str, tuple]:
    """{tag path: (VR, normalised value)} over the whole dataset, sequences included."""
    out: dict[str, tuple] = {}

    def walk(d, prefix):
        for tag in list(d.keys()):
            try:
                elem = d[tag]
            except Exception:  # bytes that do not fit the VR pydicom's dictionary gives a private tag
                raw = d.get_item(tag)
                path = f"{prefix}({tag.group:04X},{tag.element:04X})"
                out[path] = ("raw", bytes(raw.value or b"").rstrip(b"\0 "))
                continue
            path = f"{prefix}({elem.tag.group:04X},{elem.tag.element:04X})"
            out[path] = (str(elem.VR), _norm(elem))
            if elem.VR == "SQ":
                for i, item in enumerate(elem.value or []):
                    walk(item, f"{path}[{i}]/")

    walk(ds, "")
    meta = getattr(ds, "file_meta", None)
    if with_meta and meta is not None:
        for elem in meta:
            if int(elem.tag) not in _META_SKIPPED:
                out[f"meta ({elem.tag.group:04X},{elem.tag.element:04X})"] = (elem.VR, _norm(elem))
    return out


def differences(sdu: tuple, engine: tuple, random_uids: bool, with_meta: bool) -> list[str]:
    """Empty when both agree; otherwise a line per differing element (no values: paths and VRs)."""
    if sdu[0] != engine[0]:
        return [f"SDU {sdu[0]} ({sdu[1] if sdu[0] == 'error' else 'wrote the file'}), "
                f"engine {engine[0]} ({engine[1] if engine[0] == 'error' else 'wrote the file'})"]
    if sdu[0] == "error":
        return []
    a, b = snapshot(sdu[1], with_meta), snapshot(engine[1], with_meta)
    out = []
    for path in sorted(set(a) | set(b)):
        x, y = a.get(path), b.get(path)
        if x == y:
            continue
        if random_uids and x and y and x[0] == y[0] and _both_random(x[1], y[1]):
            continue
        if x is None or y is None:
            out.append(f"{path}: only in {'engine' if x is None else 'SDU'} output {x or y!r:.80}")
        else:
            out.append(f"{path}: SDU {x!r:.100} engine {y!r:.100}")
    return out


def _both_random(x, y) -> bool:
    """Equal once every random UID (newUID, mapUID, mapReferencedUIDs: random by design) is masked."""
    def mask(v):
        if isinstance(v, tuple):
            return tuple(mask(p) for p in v)
        if isinstance(v, str):
            return RANDOM_UID.sub("2.25.<random>", v)
        if isinstance(v, bytes):
            return RANDOM_UID_BYTES.sub(b"2.25.<random>", v)
        return v
    return mask(x) == mask(y)


# ---- a whole run, and minimising ------------------------------------------------------------------
@dataclass
class Case:
    name: str
    script: str
    src: Path
    variables: dict

    @property
    def random_uids(self) -> bool:
        return bool(re.search(r"newUID|new\s+UID|mapUID|mapReferencedUIDs", self.script))


class Differential:
    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="sdu-de6-diff-"))
        self.oracle = Oracle(self.tmp)
        # pydicom warns about the test files' own oddities (long SH, odd UIDs) on every read
        self._log = logging.getLogger("pydicom")
        self._level = self._log.level
        self._log.setLevel(logging.ERROR)

    def close(self):
        self._log.setLevel(self._level)
        self.oracle.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def compare(self, cases: list[Case]) -> list[list[str]]:
        engine = self.oracle.run([(c.script, c.src, c.variables) for c in cases])
        out = []
        for case, eng in zip(cases, engine):
            sdu = run_sdu(case.script, case.src, case.variables)
            with_meta = _has_meta(case.src)
            out.append(differences(sdu, eng, case.random_uids, with_meta))
        return out

    def minimise(self, case: Case, rounds: int = 40) -> Case:
        """Drop lines (greedy, one batch per round) while the disagreement stays."""
        lines = case.script.split("\n")
        for _ in range(rounds):
            candidates = []
            for i in range(len(lines)):
                if lines[i].startswith("version"):
                    continue
                trial = lines[:i] + lines[i + 1:]
                candidates.append((trial, Case(case.name, "\n".join(trial), case.src, case.variables)))
            if not candidates:
                break
            results = self.compare([c for _, c in candidates])
            for (trial, _), diff in zip(candidates, results):
                if diff:
                    lines = trial
                    break
            else:
                break
        return Case(case.name, "\n".join(lines), case.src, case.variables)


_META_CACHE: dict = {}


def _has_meta(src: Path) -> bool:
    if src not in _META_CACHE:
        ds = pydicom.dcmread(src, force=True, stop_before_pixels=True)
        _META_CACHE[src] = "TransferSyntaxUID" in getattr(ds, "file_meta", Dataset())
    return _META_CACHE[src]
