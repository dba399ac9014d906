"""A trial protocol: JSON Schema (``protocols/protocol.schema.json``) then semantic checks.

:meth:`TrialProtocol.from_file` fails with :class:`sdu.errors.ProtocolError` carrying the JSON
pointer of the offending value and the rule it broke.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from sdu.errors import ProtocolError

from .rules import check_name

SCHEMA_FILE = "protocol.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("protocols").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


@dataclass(frozen=True)
class Prescription:
    fractions: int | None = None
    total_dose_gy: float | None = None
    dose_per_fraction_gy: float | None = None
    tolerance_gy: float = 0.01

    @classmethod
    def from_dict(cls, data: dict | None) -> "Prescription | None":
        if not data:
            return None
        return cls(data.get("fractions"), data.get("total_dose_gy"), data.get("dose_per_fraction_gy"),
                   data.get("tolerance_gy", 0.01))


@dataclass(frozen=True)
class Arm:
    id: str
    title: str = ""
    prescription: Prescription | None = None


@dataclass(frozen=True)
class ObjectRule:
    modality: str
    min: int
    max: int | None = None
    sop_class_uid: str | None = None
    unit: str = "instance"


@dataclass(frozen=True)
class StructureSpec:
    name: str
    type: str
    required: bool
    required_arms: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    description: str = ""

    def is_required(self, arm: str | None) -> bool:
        """Required outright, or in ``arm``; with no arm chosen, arm-specific ones are not."""
        return self.required or (arm is not None and arm in self.required_arms)


@dataclass(frozen=True)
class TrialProtocol:
    id: str
    title: str
    version: str
    objects: tuple[ObjectRule, ...]
    structures: tuple[StructureSpec, ...]
    arms: tuple[Arm, ...] = ()
    ignore_patterns: tuple[str, ...] = ()
    prescription: Prescription | None = None
    nomenclature: str = "fail"
    illustrative: bool = False
    description: str = ""
    source: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrialProtocol":
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"cannot read protocol ({type(exc).__name__})", path=path) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProtocolError(f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}",
                                path=path) from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data, *, source: str | None = None) -> "TrialProtocol":
        check_schema(data, source)
        check_semantics(data, source)
        structures = []
        for s in data["structures"]:
            req = s["required"]
            structures.append(StructureSpec(
                s["name"], s["type"], req is True, tuple(req.get("arms", ())) if isinstance(req, dict) else (),
                tuple(s.get("synonyms", ())), s.get("description", "")))
        return cls(
            id=data["id"], title=data["title"], version=data["version"],
            objects=tuple(ObjectRule(o["modality"], o["min"], o.get("max"), o.get("sop_class_uid"),
                                     o.get("unit", "instance")) for o in data["objects"]),
            structures=tuple(structures),
            arms=tuple(Arm(a["id"], a.get("title", ""), Prescription.from_dict(a.get("prescription")))
                       for a in data.get("arms", ())),
            ignore_patterns=tuple(data.get("ignore_patterns", ())),
            prescription=Prescription.from_dict(data.get("prescription")),
            nomenclature=data.get("nomenclature", "fail"),
            illustrative=bool(data.get("illustrative", False)),
            description=data.get("description", ""),
            source=source, raw=data,
        )

    def arm(self, arm_id: str) -> Arm:
        for arm in self.arms:
            if arm.id == arm_id:
                return arm
        known = ", ".join(a.id for a in self.arms) or "none"
        raise ProtocolError(f"trial {self.id!r} has no arm {arm_id!r} (arms: {known})", pointer="/arms")

    def prescription_for(self, arm_id: str | None) -> Prescription | None:
        if arm_id is not None and self.arm(arm_id).prescription:
            return self.arm(arm_id).prescription
        return self.prescription

    def ignored(self, roi_name: str) -> bool:
        return any(re.fullmatch(p, roi_name) for p in self.ignore_patterns)


def check_schema(data, source: str | None = None) -> None:
    """Raise the most relevant JSON Schema error, with its pointer and the rule broken."""
    errors = list(Draft202012Validator(schema()).iter_errors(data))
    if not errors:
        return
    err = best_match(errors)
    parts = list(err.absolute_path)
    if err.validator == "required" and isinstance(err.instance, dict):
        missing = [p for p in err.validator_value if p not in err.instance]
        parts += missing[:1]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise ProtocolError(f"schema rule '{err.validator}': {err.message}{more}", path=source,
                        pointer=_pointer(parts) or "/")


def check_semantics(data: dict, source: str | None = None) -> None:
    """What the schema cannot say: unique names, known arms, min <= max, standard names, regexes."""
    def fail(pointer: str, message: str):
        raise ProtocolError(message, path=source, pointer=pointer)

    arm_ids: set[str] = set()
    for i, arm in enumerate(data.get("arms", ())):
        if arm["id"] in arm_ids:
            fail(f"/arms/{i}/id", f"rule 'unique arm id': {arm['id']!r} appears twice")
        arm_ids.add(arm["id"])
    for i, obj in enumerate(data["objects"]):
        if obj.get("max") is not None and obj["max"] < obj["min"]:
            fail(f"/objects/{i}/max", "rule 'min <= max': max is below min")
    seen: dict[str, str] = {}
    for i, s in enumerate(data["structures"]):
        where = f"/structures/{i}"
        if s["name"] in seen:
            fail(f"{where}/name", f"rule 'unique names': {s['name']!r} is also {seen[s['name']]}")
        verdict = check_name(s["name"])
        if not verdict.standard:
            fail(f"{where}/name", f"rule 'TG-263 name': {s['name']!r}: {verdict.errors[0].message}")
        seen[s["name"]] = f"{where}/name"
        req = s["required"]
        for j, arm in enumerate(req.get("arms", ()) if isinstance(req, dict) else ()):
            if arm not in arm_ids:
                fail(f"{where}/required/arms/{j}", f"rule 'known arm': no arm {arm!r} in /arms")
    for i, s in enumerate(data["structures"]):
        for j, syn in enumerate(s.get("synonyms", ())):
            if syn in seen:
                fail(f"/structures/{i}/synonyms/{j}", f"rule 'unique names': {syn!r} is also {seen[syn]}")
            seen[syn] = f"/structures/{i}/synonyms/{j}"
    for i, pattern in enumerate(data.get("ignore_patterns", ())):
        try:
            re.compile(pattern)
        except re.error as exc:
            fail(f"/ignore_patterns/{i}", f"rule 'regular expression': {exc}")
