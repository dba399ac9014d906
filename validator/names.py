"""ROI names against a trial: standard, trial synonym, ignored or unknown, with ranked suggestions.

Suggestions, best first: the trial's own names and synonyms, matched ignoring case and separators
(score 100/98) or word for word after reading both through the lexicon (96); a TG-263 name in
another case (97 for a trial name, 92); then TG-263 names composed token by token by
:mod:`validator.compose` (organs; at most 95, lower for typos, ambiguity or a broken rule) or, for
targets, by the target grammar (doses to cGy/Gy; 95 when it gives a trial name, 90 otherwise).
Each suggestion says which rule or lexicon entry produced it. Nothing here renames anything: the
user chooses, or ``sdu relabel --accept-suggestions`` takes those scoring at least its threshold.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .compose import candidates, read
from .protocol import TrialProtocol
from .rules import Finding, check_name, is_target
from .tg263 import table


@dataclass(frozen=True)
class Suggestion:
    name: str
    score: float
    source: str  # "synonym" | "case" | "normalised" | "fuzzy" (a typo corrected)
    explanation: str = ""  # which rule or lexicon entry produced it

    def to_dict(self) -> dict:
        return {"name": self.name, "score": round(self.score, 1), "source": self.source,
                "explanation": self.explanation}


@dataclass(frozen=True)
class NameVerdict:
    roi_name: str
    status: str  # "standard" | "synonym" | "ignored" | "unknown"
    structure: str | None = None  # the trial structure this ROI fulfils, if any
    findings: tuple[Finding, ...] = ()
    suggestions: tuple[Suggestion, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"roi_name": self.roi_name, "status": self.status, "structure": self.structure,
                "findings": [f.to_dict() for f in self.findings if f.level == "error"],
                "suggestions": [s.to_dict() for s in self.suggestions]}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).casefold()


def _trial_names(protocol: TrialProtocol) -> dict[str, str]:
    """Every name the trial accepts -> the structure it stands for."""
    names = {}
    for s in protocol.structures:
        names[s.name] = s.name
        for syn in s.synonyms:
            names[syn] = s.name
    return names


def classify(roi_name: str, protocol: TrialProtocol) -> NameVerdict:
    trial = _trial_names(protocol)
    if protocol.ignored(roi_name):
        return NameVerdict(roi_name, "ignored")
    if roi_name in trial:
        status = "standard" if trial[roi_name] == roi_name else "synonym"
        return NameVerdict(roi_name, status, trial[roi_name])
    verdict = check_name(roi_name)
    if verdict.standard:
        return NameVerdict(roi_name, "standard", None, verdict.findings)
    return NameVerdict(roi_name, "unknown", None, verdict.findings, tuple(suggest(roi_name, protocol)))


def _target_candidates(name: str) -> list[str]:
    parts = [p for p in re.split(r"[\s_]+", name.strip()) if p]
    head, rest = parts[0], parts[1:]
    head = head.upper() if head.upper().rstrip("NPSBV").startswith(("GTV", "CTV", "ITV", "PTV")) else head
    head = re.sub(r"^(IGTV|ICTV|GTV|CTV|ITV|PTV)(.*)$", lambda m: m.group(1) + m.group(2).lower(), head)
    fixed = []
    for p in rest:
        if re.fullmatch(r"\d{1,2}(\.\d+)?", p):  # a dose typed in Gy
            gy = float(p)
            fixed.append([f"{round(gy * 100):d}", (f"{p.replace('.', 'p')}Gy")])
        elif re.fullmatch(r"(?i)(gy)?", p):
            continue
        else:
            fixed.append([p[:1].upper() + p[1:]])
    return ["_".join([head, *combo]) for combo in itertools.product(*fixed)] if fixed else [head]


@lru_cache(maxsize=32)
def _trial_by_key(names: tuple[tuple[str, str], ...]) -> dict[str, list[tuple[str, str]]]:
    """The trial's names and synonyms by their case- and separator-free key."""
    out: dict[str, list[tuple[str, str]]] = {}
    for accepted, structure in names:
        out.setdefault(_key(accepted), []).append((accepted, structure))
    return out


def _trial_keys(protocol: TrialProtocol) -> dict[frozenset[str], str]:
    return _trial_keys_of(tuple(_trial_names(protocol).items()))


@lru_cache(maxsize=32)
def _trial_keys_of(names: tuple[tuple[str, str], ...]) -> dict[frozenset[str], str]:
    """Token keys of the trial's own names and synonyms (how the protocol sheet spells them)."""
    keys: dict[frozenset[str], str] = {}
    for accepted, structure in names:
        if accepted == structure and table().lookup(accepted):
            continue  # a TG-263 name: the composer finds it, and says how
        reading = read(accepted)
        if reading.key and not reading.unknown and reading.margin is None:
            keys.setdefault(reading.key, structure)
    return keys


def suggest(roi_name: str, protocol: TrialProtocol, limit: int = 3) -> list[Suggestion]:
    """Ranked suggestions: the trial's own names first, then TG-263 names composed token by token."""
    trial = _trial_names(protocol)
    best: dict[str, Suggestion] = {}

    def offer(name: str, score: float, source: str, why: str) -> None:
        if name not in best or best[name].score < score:
            best[name] = Suggestion(name, score, source, why)

    for accepted, structure in _trial_by_key(tuple(trial.items())).get(_key(roi_name), ()):
        same = accepted == structure
        offer(structure, 100 if same else 98, "case" if same else "synonym",
              f"the trial's {'name' if same else 'synonym'} {accepted!r}, ignoring case and separators")
    folded = table().fold(roi_name.strip())
    if folded:
        offer(trial.get(folded, folded), 97 if folded in trial else 92, "case",
              f"TG-263 {folded} in another case" + (f"; trial structure {trial[folded]}" if folded in trial else ""))
    if is_target(roi_name.strip().upper()):
        for cand in _target_candidates(roi_name):
            if cand in trial:
                offer(trial[cand], 95, "normalised", f"target read as {cand}, the trial's name for {trial[cand]}")
            elif check_name(cand).standard:
                offer(cand, 90, "normalised", f"target read as {cand} (TG-263 target grammar)")
    else:
        reading = read(roi_name)
        structure = _trial_keys(protocol).get(reading.key) if not reading.unknown and reading.margin is None else None
        if structure:
            offer(structure, 96 - reading.typo_penalty, "synonym",
                  "; ".join([*reading.steps, f"the trial's name for {structure}, word for word"]))
        for cand in candidates(roi_name):
            source = "fuzzy" if cand.typo else "normalised"
            if cand.name in trial:
                offer(trial[cand.name], cand.score, source, f"{cand.explanation}; trial structure {trial[cand.name]}")
            else:
                offer(cand.name, cand.score, source, cand.explanation)
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.name not in trial.values(), s.name))
    return ranked[:limit]
