"""AAPM TG-263 naming rules, each a small named function returning findings.

A finding at level ``error`` makes a name non-standard; ``info`` explains how it was read.
:func:`check_name` runs the rules in order and says whether the name is standard, and as what.

Rules (TG-263 report, 2018): at most 16 characters; no spaces, ``_`` separates parts;
laterality/position suffixes ``_L _R _A _P _I _S``; ``_PRVxx`` (margin in mm, two digits: ``_PRV05``);
``~`` partial structure; ``^`` custom qualifier; ``z`` (or ``_``) prefix for non-dosimetric
helper structures; targets: type (GTV, CTV, ITV, IGTV, ICTV, PTV, ``PTV!``) + classifier
(n, p, sb, par, v, vas) + number + ``_`` qualifiers + dose (High/Mid/Low, cGy ``5040`` or
``50p4Gy``) + fractions ``x`` + crop ``-xx`` + ``^`` qualifier.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .tg263 import table

MAX_LENGTH = 16
ALLOWED = re.compile(r"[A-Za-z0-9_~^!+\-]+")
TARGET_HEAD = re.compile(r"(?P<type>IGTV|ICTV|GTV|CTV|ITV|PTV)(?P<excl>!)?(?P<cls>par|vas|sb|n|p|v)?(?P<num>\d{1,2})?")
DOSE = re.compile(r"(?:High|Low|Mid\d{0,2}|\d{3,5}|\d{1,3}p\d{1,2}Gy|\d{1,3}Gy)(?:x\d{1,2})?")
QUALIFIER = re.compile(r"[A-Z][A-Za-z0-9]*")
CUSTOM = re.compile(r"[A-Za-z0-9_+\-]+")
PRV = re.compile(r"_PRV(\d{1,2})?(?=_|~|$)")
PRV_ONE_DIGIT = re.compile(r"_PRV\d(?!\d)")
LATERALITY_WORDS = re.compile(r"(?i)(^|[_\s])(lt|rt|left|right|lft|rgt)($|[_\s])")


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str  # "error" | "info"
    message: str

    def to_dict(self) -> dict:
        return {"rule": self.rule, "level": self.level, "message": self.message}


@dataclass(frozen=True)
class NameCheck:
    """How TG-263 reads one ROI name."""

    name: str
    standard: bool
    kind: str  # "target" | "organ" | "helper"
    primary: str | None = None  # the TG-263 primary name an organ name is built on
    findings: tuple[Finding, ...] = field(default=())

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


def _error(rule: str, message: str) -> list[Finding]:
    return [Finding(rule, "error", message)]


def max_length(name: str) -> list[Finding]:
    if len(name) > MAX_LENGTH:
        return _error("max_length", f"{len(name)} characters; TG-263 allows {MAX_LENGTH}")
    return []


def allowed_characters(name: str) -> list[Finding]:
    if not name:
        return _error("characters", "empty name")
    if " " in name:
        return _error("characters", "contains spaces; TG-263 separates parts with '_'")
    if not ALLOWED.fullmatch(name):
        bad = sorted({c for c in name if not ALLOWED.fullmatch(c)})
        return _error("characters", f"characters not allowed by TG-263: {''.join(bad)!r}")
    return []


def nondosimetric_prefix(name: str) -> list[Finding]:
    """``zPTVopt``, ``_Ring``: helper structures, free-form after the prefix."""
    if len(name) > 1 and (name[0] == "_" or (name[0] == "z" and not name[1].islower())):
        return [Finding("z_prefix", "info", "non-dosimetric helper structure (prefix); not matched to the name list")]
    return []


def laterality_words(name: str) -> list[Finding]:
    """``Lt``/``Left``/``Rt`` spelled out instead of the ``_L``/``_R`` suffix."""
    if LATERALITY_WORDS.search(name):
        return _error("laterality", "laterality written as a word; TG-263 uses the suffixes _L and _R")
    return []


def prv_margin(name: str) -> list[Finding]:
    """``_PRV3``: TG-263 writes the PRV margin as two digits in mm (``_PRV03``)."""
    if PRV_ONE_DIGIT.search(name):
        return _error("prv_margin", "PRV margin must be two digits in mm, e.g. '_PRV03'")
    return []


def is_target(name: str) -> bool:
    return TARGET_HEAD.match(name) is not None


def target_grammar(name: str) -> list[Finding]:
    """Parse a target name; every malformed part is a finding."""
    head = TARGET_HEAD.match(name)
    if head is None:
        return _error("target", "not a target name (GTV, CTV, ITV, IGTV, ICTV, PTV)")
    rest = name[head.end():]
    findings: list[Finding] = []
    if "^" in rest:
        rest, custom = rest.split("^", 1)
        if not CUSTOM.fullmatch(custom):
            findings += _error("custom_qualifier", "empty or malformed '^' qualifier")
    crop = re.search(r"-(\d+)$", rest)
    if crop:
        if len(crop.group(1)) != 2:
            findings += _error("target_crop", "crop must be two digits in mm, e.g. '-03'")
        rest = rest[: crop.start()]
    if rest and not rest.startswith("_"):
        return findings + _error("target", f"after {head.group()!r} expected a classifier, a number or '_'")
    segments = rest.split("_")[1:] if rest else []
    for i, seg in enumerate(segments):
        if not seg:
            findings += _error("target", "empty part (two '_' in a row or a trailing '_')")
        elif DOSE.fullmatch(seg):
            if i != len(segments) - 1:
                findings += _error("target_dose", "the dose must be the last '_' part (before crop and '^')")
        elif seg[0].isdigit():
            findings += _error("target_dose", f"dose {seg!r} is neither cGy (3-5 digits) nor '<Gy>p<decimals>Gy'")
        elif not QUALIFIER.fullmatch(seg):
            findings += _error("target_qualifier", f"qualifier {seg!r} must start with a capital letter (e.g. 'Eval')")
    if not findings:
        findings.append(Finding("target", "info", f"target {head.group('type')}"))
    return findings


def _strip_modifiers(name: str) -> tuple[str, list[Finding]]:
    """Remove ``^qualifier``, ``~`` and ``_PRVxx`` so the TG-263 primary name is left."""
    findings: list[Finding] = []
    base = name
    if "^" in base:
        base, custom = base.split("^", 1)
        if not CUSTOM.fullmatch(custom):
            findings += _error("custom_qualifier", "empty or malformed '^' qualifier")
    if base.count("~") > 1:
        findings += _error("partial", "more than one '~'")
    elif "~" in base:
        at = base.index("~")
        if at + 1 < len(base) and base[at + 1] != "_":
            findings += _error("partial", "'~' must end the root name (before a '_' suffix)")
        base = base.replace("~", "")
    prv = PRV.search(base)
    if prv:
        base = base[: prv.start()] + base[prv.end():]
    return base, findings


def organ_name(name: str) -> tuple[str | None, list[Finding]]:
    """Match a non-target name against the TG-263 list, allowing ``~``, ``_PRVxx``, ``^``."""
    names = table()
    if names.lookup(name):
        return names.lookup(name).name, []
    base, findings = _strip_modifiers(name)
    row = names.lookup(base)
    if row:
        return row.name, findings
    folded = names.fold(base)
    if folded:
        return None, findings + _error("case", f"case differs from TG-263 {folded!r}")
    return None, findings + _error("tg263_list", "not in the TG-263 name list")


def check_name(name: str) -> NameCheck:
    """Apply every rule to ``name``.

    A row of the TG-263 worksheet itself is never too long: three of its rows (``SpinalCanal_PRVxx``,
    ``OpticChiasm_PRVxx``, ``Hypothalmus_PRVxx``) exceed 16 characters, and the list is the authority.
    """
    findings = (max_length(name) if name not in table().names else []) + allowed_characters(name)
    prefix = nondosimetric_prefix(name)
    if prefix:
        findings += prefix
        kind, primary = "helper", None
    elif is_target(name):
        kind, primary = "target", None
        findings += laterality_words(name) if " " in name else []
        findings += target_grammar(name) if not any(f.rule == "characters" for f in findings) else []
    else:
        kind = "organ"
        findings += laterality_words(name) + prv_margin(name)
        primary, more = organ_name(name)
        findings += [f for f in more if not (f.rule == "tg263_list" and any(g.level == "error" for g in findings))]
    standard = not any(f.level == "error" for f in findings)
    return NameCheck(name, standard, kind, primary if standard else None, tuple(findings))
