"""The token-level composer: splitting, the lexicon, qualifiers, PRV margins, ambiguity and the rules."""
import pytest

from validator.compose import AMBIGUOUS_CAP, INVALID_CAP, candidates, engine, read
from validator.lexicon import lexicon
from validator.rules import check_name
from validator.tg263 import table
from validator.tokens import break_glued, words


@pytest.mark.parametrize("typed,expected", [
    ("LeftFrontalLobe", ["left", "frontal", "lobe"]),
    ("Stem_PRV3mm", ["stem", "prv", "3", "mm"]),
    ("cord+5", ["cord", "+", "5"]),
    ("Lungs - GTV", ["lungs", "minus", "gtv"]),
    ("Femur-Head-L", ["femur", "head", "l"]),
    ("Level IIa L", ["level", "iia", "l"]),
    ("VB_T01", ["vb", "t1"]),
    ("Cord PRV 0.5cm", ["cord", "prv", "0p5", "cm"]),
    ("Left 2nd rib", ["left", "2", "rib"]),
    ("SVs", ["svs"]),
    ("LKidney", ["l", "kidney"]),
])
def test_words(typed, expected):
    assert words(typed) == expected


def test_glued_words_break_into_known_pieces_only():
    vocab = frozenset({"nasal", "cavity", "kidney", "brainstem", "brain", "stem"})
    sides = frozenset({"l", "lt", "left", "r"})
    assert break_glued("nasalcavity", vocab, sides) == ["nasal", "cavity"]
    assert break_glued("lkidney", vocab, sides) == ["l", "kidney"]
    assert break_glued("kidneyl", vocab, sides) == ["kidney", "l"]
    assert break_glued("klidney", vocab, sides) is None  # a side word only at either end
    assert break_glued("isocenter", vocab, sides) is None


def test_word_order_does_not_matter_and_category_words_may_be_missing():
    assert read("large bowel").key == read("Bowel_Large").key == frozenset({"bowel", "large"})
    assert candidates("submandibular L")[0].name == "Glnd_Submand_L"  # 'gland' left out by the typist
    assert candidates("parotid gland L")[0].name == "Parotid_L"       # 'gland' typed, TG-263 leaves it out


def test_qualifiers():
    assert "@L" in read("Sin parotid").key and "@R" in read("parotid dx").key
    assert "@B" in read("Lungs_combined").key and "@B" not in read("left lungs").key  # a side beats 'both'
    assert read("Upper oesophagus").key == frozenset({"esophagus", "@S"})


@pytest.mark.parametrize("typed,margin", [("prv3_brainstem", 3), ("cord+5", 5), ("SpinalCord prv 05", 5),
                                          ("Cord PRV 0.5cm", 5), ("PRV_Brainstem_03", 3), ("Brainstem PRV", -1),
                                          ("Stem_3mm", 3), ("Brainstem", None)])
def test_margins(typed, margin):
    assert read(typed).margin == margin


def test_prv_is_composed_before_the_side_and_checked_by_the_rules():
    top = candidates("Lt Lens + 3")[0]
    assert top.name == "Lens_PRV03_L" and check_name(top.name).standard
    too_long = candidates("Spinal Canal PRV5")[0]  # SpinalCanal_PRV05: 17 characters
    assert too_long.name == "SpinalCanal_PRV05" and too_long.score <= INVALID_CAP
    assert "breaks a TG-263 rule" in too_long.explanation
    assert candidates("Stem_3mm")[0].score < 90  # margin guessed from '3mm' with no 'PRV'
    assert candidates("Brainstem PRV")[0].score < 90  # TG-263 wants the mm


def test_several_names_fit_none_is_confident():
    found = candidates("temporal L")  # bone, lobe or muscle
    assert {c.name for c in found} == {"Bone_Temporal_L", "Lobe_Temporal_L", "Musc_Temporal_L"}
    assert all(c.score <= AMBIGUOUS_CAP for c in found)
    assert "ambiguous" in found[0].explanation


def test_a_typed_category_rules_out_other_categories():
    # 'common iliac' alone fits artery and vein; 'nodes' says which
    assert candidates("Common iliac nodes L")[0].name == "LN_Iliac_L"
    assert candidates("Common iliac artery L")[0].name == "A_Iliac_L"


def test_plural_and_side_fallbacks_are_less_confident():
    exact = candidates("Both Lungs")[0]
    guessed = candidates("Lung")[0]  # no side typed: TG-263 only has Lungs (or a side)
    assert (exact.name, guessed.name) == ("Lungs", "Lungs")
    assert exact.score >= 90 > guessed.score
    assert candidates("Both Femoral Heads") == []  # TG-263 has no name for both femoral heads


def test_typos_corrected_per_word_and_not_preselected_unless_clear():
    short = candidates("parotd left")[0]
    assert (short.name, short.typo) == ("Parotid_L", True) and short.score < 90
    assert candidates("Submandibullar L")[0].name == "Glnd_Submand_L"
    assert candidates("Zzyzx") == []


def test_unread_words_give_no_suggestion():
    assert candidates("Parotid L contracted") == []
    assert candidates("") == []


def test_lexicon_data_is_consistent():
    lex = lexicon()
    names = table().names
    assert set(lex.overrides) <= set(names) and set(lex.phrasings) <= set(names)
    qualifiers = {"@L", "@R", "@I", "@S", "@M", "@B"}
    for tokens in [*lex.words.values(), *lex.phrases.values()]:
        assert all(t in qualifiers or not t.startswith("@") for t in tokens), tokens
    assert not set(lex.laterality) & set(lex.words)  # a side word is never also an organ word
    index = engine().index
    unique = {n for entry in index.values() if entry.prio == 0 and len(entry.names) == 1 for n in entry.names}
    placeholders = {n for n, row in names.items() if row.placeholder}
    assert set(names) - placeholders - unique == set()  # every name has a token set of its own
    assert not [e.names for e in index.values() if e.prio == 0 and len(e.names) > 1]
