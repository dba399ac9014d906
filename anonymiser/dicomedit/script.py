"""A loaded script (parsed and checked once) and a chain of them (site, then project)."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydicom.dataset import Dataset

from sdu.errors import ScriptError

from . import nodes as n
from .evaluator import Run, execute_all
from .model import Change, Changes, ScriptContext
from .parser import compile_regex, parse_program
from .tagpath import fmt_tag


class Script:
    """A DicomEdit 6 script ready to apply. Picklable; cheap to rebuild with :func:`load_script`."""

    def __init__(self, program: n.Program, name: str):
        self.program, self.name = program, name
        self._regexes: dict = {}

    def __getstate__(self):
        return {"program": self.program, "name": self.name}

    def __setstate__(self, state):
        self.__init__(state["program"], state["name"])

    @property
    def version(self) -> str | None:
        return self.program.version

    @property
    def statement_count(self) -> int:
        return self.program.statement_count

    @property
    def variables(self) -> dict[str, n.VariableInfo]:
        return dict(self.program.variables)

    @property
    def external_variables(self) -> list[str]:
        """Variables the script reads but never sets: the context must supply them."""
        return sorted(v.name for v in self.program.variables.values() if v.referenced and not v.assigned)

    def regex(self, pattern: str, node):
        compiled = self._regexes.get(pattern)
        if compiled is None:
            compiled = self._regexes[pattern] = compile_regex(pattern, node, self.name)
        return compiled

    def apply(self, ds: Dataset, context: ScriptContext | None = None) -> Changes:
        """Edit ``ds`` in place; return the changes (``.echoes`` holds echo output)."""
        context = context or ScriptContext()
        missing = [k for k, v in self.program.variables.items()
                   if v.required and not v.assigned and k not in context.variables]
        if missing:  # XNAT refuses the file before it runs a statement
            line, column = self.program.variables[sorted(missing)[0]].where or (None, None)
            raise ScriptError("missing value for script-required variable(s): " + ", ".join(sorted(missing)),
                              path=self.name, line=line, column=column)
        run = Run(self, ds, context)
        sop_before = _sop_uid(ds)
        meta = getattr(ds, "file_meta", None)
        syntax_before = str(meta.TransferSyntaxUID) if meta is not None and "TransferSyntaxUID" in meta else None
        execute_all(run, self.program.statements)
        _settle_private_vrs(run.raw_private.values())
        _sync_media_storage_uid(ds, sop_before, run.changes)
        _settle_file_meta(ds, syntax_before, run.changes)
        return run.changes


class ScriptChain:
    """Scripts applied one after the other, in XNAT's order: site-wide first, then project."""

    def __init__(self, scripts: list[Script]):
        self.scripts = list(scripts)

    @property
    def statement_count(self) -> int:
        return sum(s.statement_count for s in self.scripts)

    def apply(self, ds: Dataset, context: ScriptContext | None = None) -> Changes:
        out = Changes()
        for script in self.scripts:
            changes = script.apply(ds, context)
            out.extend(changes)
            out.echoes.extend(changes.echoes)
        return out


def _settle_private_vrs(datasets) -> None:
    """dcm4che 2 picks a private element's VR when it writes the file, from the creator its block
    has then: a block whose creator the script changed or blanked gets UN (as XNAT writes it)."""
    from pydicom.dataelem import RawDataElement
    from .elements import _private_vr
    for ds in datasets:
        for tag in list(getattr(ds, "_sdu_raw_written", ())):
            raw = ds.get_item(tag) if tag in ds else None
            if isinstance(raw, RawDataElement):
                vr = _private_vr(ds, tag)
                if vr != raw.VR:
                    ds._dict[raw.tag] = raw._replace(VR=vr)


EXPLICIT_LE = "1.2.840.10008.1.2.1"


def _settle_file_meta(ds: Dataset, syntax_before: str | None, changes: Changes) -> None:
    """What XNAT's writer does with file meta a script touched: text without its outer spaces; with
    its transfer syntax emptied or deleted, the file is written Explicit VR Little Endian;
    (0002,0002) follows SOPClassUID."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return
    for elem in meta:  # XNAT's writer makes the file meta anew from trimmed text
        if isinstance(elem.value, str) and elem.value != elem.value.strip(" "):
            elem.value = elem.value.strip(" ")
    if syntax_before and not str(meta.get("TransferSyntaxUID", "") or "").strip():
        meta.TransferSyntaxUID = EXPLICIT_LE
        changes.append(Change(fmt_tag(0x00020010), "TransferSyntaxUID", None, EXPLICIT_LE))
    if "MediaStorageSOPClassUID" in meta and "SOPClassUID" in ds and str(ds.SOPClassUID).strip() \
            and str(meta.MediaStorageSOPClassUID) != str(ds.SOPClassUID):
        before = str(meta.MediaStorageSOPClassUID)
        meta.MediaStorageSOPClassUID = str(ds.SOPClassUID)
        changes.append(Change(fmt_tag(0x00020002), "MediaStorageSOPClassUID", before, str(ds.SOPClassUID)))


def _sop_uid(ds: Dataset) -> str | None:
    return str(ds.SOPInstanceUID) if "SOPInstanceUID" in ds else None


def _sync_media_storage_uid(ds: Dataset, before: str | None, changes: Changes) -> None:
    """Keep (0002,0003) equal to SOPInstanceUID when the script changed the latter (as XNAT does)."""
    meta = getattr(ds, "file_meta", None)
    after = _sop_uid(ds)
    if meta is None or before is None or after == before or "MediaStorageSOPInstanceUID" not in meta:
        return
    if str(meta.MediaStorageSOPInstanceUID) == before and after:
        meta.MediaStorageSOPInstanceUID = after
        changes.append(Change(fmt_tag(0x00020003), "MediaStorageSOPInstanceUID", before, after))


#: Why a script without a version line is refused (XNAT would not run it as DicomEdit 6).
UNVERSIONED = ('no version line: XNAT runs a script without version "6.x" with DicomEdit 4, which SDU '
               'does not implement; add version "6.6" as its first line to run it as DicomEdit 6 in both')


@lru_cache(maxsize=64)
def _load_cached(text: str, name: str) -> Script:
    return Script(parse_program(text, name), name)


def load_script(text: str, name: str = "<script>", require_version: bool = True) -> Script:
    """Parse and check ``text``; raises :class:`ScriptError` with line and column.

    A script with no ``version "6.x"`` statement is refused unless ``require_version`` is false:
    XNAT would run it with DicomEdit 4, so running it as DicomEdit 6 would silently differ."""
    if not isinstance(text, str):
        raise ScriptError("script text must be a string", path=name)
    script = _load_cached(text, name)
    if require_version and script.version is None:
        raise ScriptError(UNVERSIONED, path=name, line=1, column=1)
    return script


def load_scripts(named_texts, require_version: bool = True) -> ScriptChain:
    """``[(name, text), ...]`` in application order (site script first, then project)."""
    return ScriptChain([load_script(text, name, require_version) for name, text in named_texts])


def default_site_script() -> str:
    """The shipped default site-wide script (``scripts/xnat-default-site.das``)."""
    return resources.files(__package__).joinpath("scripts", "xnat-default-site.das").read_text()
