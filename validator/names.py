"""ROI names against a trial: standard, trial synonym, ignored or unknown, with ranked suggestions.

Suggestions come in three tiers, best first: the trial's own names and synonyms matched ignoring
case and separators (score 100/98), normalisation (spaces to ``_``, ``Lt``/``Left`` to ``_L``,
common words to TG-263 abbreviations, target doses to cGy/Gy; 95 when it gives a trial name, 90
for another TG-263 name), then fuzzy matching with ``rapidfuzz`` (scaled to at most 85). Nothing
here renames anything: the user chooses (``sdu relabel``).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .protocol import TrialProtocol
from .rules import Finding, check_name, is_target
from .tg263 import aliases, table

FUZZY_WEIGHT = 0.85
FUZZY_CUTOFF = 70


@dataclass(frozen=True)
class Suggestion:
    name: str
    score: float
    source: str  # "synonym" | "case" | "normalised" | "fuzzy"

    def to_dict(self) -> dict:
        return {"name": self.name, "score": round(self.score, 1), "source": self.source}


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


def _tokens(name: str) -> tuple[str | None, list[str]]:
    """Split a free-typed organ name into TG-263 parts and a laterality letter."""
    words = aliases()["words"]
    sides = aliases()["laterality"]
    side, parts = None, []
    for token in re.split(r"[\s_\-]+", name.strip()):
        low = token.casefold()
        if not token:
            continue
        if low in sides:
            side = sides[low]
            continue
        parts.append(words.get(low, token[:1].upper() + token[1:].lower() if token.isupper() or token.islower() else token))
    return side, parts


def _organ_candidates(name: str) -> list[str]:
    side, parts = _tokens(name)
    if not parts or len(parts) > 5:
        return []
    out = []
    for glue in itertools.product(("_", ""), repeat=len(parts) - 1):
        joined = parts[0] + "".join(g + p for g, p in zip(glue, parts[1:]))
        out.append(joined + (f"_{side}" if side else ""))
        if not side and joined.endswith("s"):
            out.append(joined[:-1])  # plural typed for a single organ
    return out


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


def suggest(roi_name: str, protocol: TrialProtocol, limit: int = 3) -> list[Suggestion]:
    trial = _trial_names(protocol)
    best: dict[str, Suggestion] = {}

    def offer(name: str, score: float, source: str) -> None:
        if name not in best or best[name].score < score:
            best[name] = Suggestion(name, score, source)

    key = _key(roi_name)
    for accepted, structure in trial.items():
        if _key(accepted) == key:
            offer(structure, 100 if accepted == structure else 98, "case" if accepted == structure else "synonym")
    folded = table().fold(roi_name.strip())
    if folded:
        offer(trial.get(folded, folded), 97 if folded in trial else 92, "case")
    candidates = _target_candidates(roi_name) if is_target(roi_name.strip().upper()) else _organ_candidates(roi_name)
    for cand in candidates:
        if cand in trial:
            offer(trial[cand], 95, "normalised")
        elif check_name(cand).standard and (is_target(cand) or table().lookup(cand)):
            offer(cand, 90, "normalised")
        elif table().fold(cand):
            offer(trial.get(table().fold(cand), table().fold(cand)), 90, "normalised")
    choices = {**{_key(n): s for n, s in trial.items()},
               **{_key(n): n for n in table().names if not table().names[n].placeholder and _key(n) not in
                  {_key(t) for t in trial}}}
    for match, score, _ in process.extract(key, list(choices), scorer=fuzz.WRatio, limit=limit,
                                           score_cutoff=FUZZY_CUTOFF):
        target = choices[match]
        offer(target, score * FUZZY_WEIGHT + (5 if target in trial.values() else 0), "fuzzy")
    ranked = sorted(best.values(), key=lambda s: (-s.score, s.name not in trial.values(), s.name))
    return ranked[:limit]
