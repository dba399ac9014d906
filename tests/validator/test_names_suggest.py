"""Suggestions: trial synonyms first, then normalisation, then fuzzy; scores rank them."""
import pytest

from validator import classify, find_protocol, suggest

PROSTATE = find_protocol("EXAMPLE-PROSTATE")


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
    ranked = suggest("CTV prostate", PROSTATE)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    assert ranked[0].score > 95 > ranked[-1].score
    assert all(s.score <= 90 for s in suggest("Bowel bag", PROSTATE) if s.source == "fuzzy")


def test_no_confident_suggestion_for_unrelated_names():
    assert all(s.score < 90 for s in suggest("Isocenter 1", PROSTATE))


def test_classify_statuses():
    assert classify("PTV_6000", PROSTATE).status == "synonym"
    assert classify("PTV_6000", PROSTATE).structure == "PTV_High"
    assert classify("Femur_Head_L", PROSTATE).status == "standard"
    assert classify("Lungs", PROSTATE).status == "standard"  # TG-263 though not in this trial
    assert classify("couch_inner", PROSTATE).status == "ignored"
    unknown = classify("Lt Femoral Head", PROSTATE)
    assert unknown.status == "unknown" and unknown.suggestions
    assert {f.rule for f in unknown.findings} >= {"characters", "laterality"}
