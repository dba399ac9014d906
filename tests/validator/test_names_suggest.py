"""Suggestions: trial synonyms first, then TG-263 names composed token by token; scores rank them, each says why."""
import dataclasses

import pytest

from validator import classify, find_protocol, suggest

PROSTATE = find_protocol("EXAMPLE-PROSTATE")
HN = find_protocol("EXAMPLE-HN")
BARE = dataclasses.replace(PROSTATE, structures=(), ignore_patterns=())  # TG-263 alone decides


@pytest.mark.parametrize("typed,expected,source", [
    ("BODY", "External", "synonym"),          # the trial's synonym 'Body', ignoring case
    ("CTV prostate", "CTV_High", "synonym"),  # 'CTV_Prostate' is a synonym of CTV_High
    ("BLADDER", "Bladder", "case"),
    ("Lt Femoral Head", "Femur_Head_L", "normalised"),
    ("Right femoral head", "Femur_Head_R", "normalised"),
    ("PTV 60", "PTV_High", "normalised"),     # 60 Gy -> PTV_6000, a synonym of PTV_High
    ("optic nerve left", "OpticNrv_L", "normalised"),
    ("Penile Bulb", "PenileBulb", "case"),
])
def test_top_suggestion(typed, expected, source):
    top = suggest(typed, PROSTATE)[0]
    assert (top.name, top.source) == (expected, source)


def test_scores_rank_synonym_over_normalised_over_fuzzy():
    # issue 16 changed this: no whole-name fuzzy guesses trail the trial's synonym any more
    assert [(s.name, s.score, s.source) for s in suggest("CTV prostate", PROSTATE)] == [("CTV_High", 98, "synonym")]
    typo = suggest("Lt Femural Head", PROSTATE)[0]  # one typo, corrected per word: listed, never pre-selected
    assert (typo.name, typo.source) == ("Femur_Head_L", "fuzzy") and typo.score < 90
    assert "'femural' → femoral (typo" in typo.explanation


def test_trial_synonyms_win_over_tg263():
    # TG-263 reads 'bowel bag' as Bag_Bowel; EXAMPLE-PROSTATE lists Bag_Bowel as a synonym of its 'Bowel'
    assert suggest("bowel bag", BARE)[0].name == "Bag_Bowel"
    top = suggest("bowel bag", PROSTATE)[0]
    assert (top.name, top.source) == ("Bowel", "synonym") and top.score > suggest("bowel bag", BARE)[0].score
    assert "the trial's name for Bowel" in top.explanation


def test_each_suggestion_explains_itself():
    top = suggest("Lt parotid", HN)[0]
    assert top.name == "Parotid_L"
    assert top.explanation.startswith("'lt' → laterality L; ")
    assert "TG-263 Parotid_L (by its name parts)" in top.explanation
    prv = suggest("cord+5", HN)[0]
    assert prv.name == "SpinalCord_PRV05"  # a trial structure, composed by the PRV rule
    assert "'+ 5' → PRV margin 5 mm" in prv.explanation and "'cord' → spinal cord (lexicon)" in prv.explanation
    assert "PRV rule: SpinalCord_PRV05" in prv.explanation
    assert prv.to_dict()["explanation"] == prv.explanation


def test_no_confident_suggestion_for_unrelated_names():
    assert all(s.score < 90 for s in suggest("Isocenter 1", PROSTATE))
    assert suggest("Isocenter 1", PROSTATE) == []  # nothing read it: no guess at all


def test_classify_statuses():
    assert classify("PTV_6000", PROSTATE).status == "synonym"
    assert classify("PTV_6000", PROSTATE).structure == "PTV_High"
    assert classify("Femur_Head_L", PROSTATE).status == "standard"
    assert classify("Lungs", PROSTATE).status == "standard"  # TG-263 though not in this trial
    assert classify("couch_inner", PROSTATE).status == "ignored"
    unknown = classify("Lt Femoral Head", PROSTATE)
    assert unknown.status == "unknown" and unknown.suggestions
    assert {f.rule for f in unknown.findings} >= {"characters", "laterality"}


def test_report_shows_why(clinical_study):
    import io

    from rich.console import Console

    from validator import render, validate_session

    report = validate_session(clinical_study.root, PROSTATE)
    entry = next(n for n in report.to_dict()["roi_names"] if n["roi_name"] == "Lt Femoral Head")
    assert entry["suggestions"][0]["name"] == "Femur_Head_L"
    assert entry["suggestions"][0]["explanation"].startswith("'lt' → laterality L; 'femoral head' → femur head (phrase)")
    console = Console(width=400, record=True, file=io.StringIO())
    console.print(render(report))
    text = console.export_text()
    assert "why (first suggestion)" in text
    assert "'lt' → laterality L; 'femoral head' → femur head (phrase); TG-263 Femur_Head_L (by its name parts)" in text
