"""Parsing and load-time checks: every statement form, and errors with line and column."""
from __future__ import annotations

import pickle

import pytest

from anonymiser.dicomedit import load_script
from anonymiser.dicomedit.nodes import Assign, Conditional, Delete, If
from sdu.errors import ScriptError

EVERY_FORM = r'''// a comment line
version "6.6"
describe subject "Trial subject label"
describe secret hidden
export session "xnat:imageSessionData/label"
(0010,0010) := subject            // trailing comment
(0010,0020) ?= "ID"
-(0010,1000)
-*/(0008,1155)
-+/(0010,0020)
-./(0008,0100)
-(0008,1115)[0]/(0020,000E)
-(5200,9230)[%]/(0018,9152)
-(0019,{SIEMENS MR HEADER}XX)
-(50X@,30##)
modality := (0008,0060)
names := {"a", "b",
          (0010,0010)}
(0008,0060) = "CT" ? (0008,103E) := "ct" : (0008,103E) := "other"
(0008,0060) != "MR" ? -(0008,0070)
(0010,0010) ~ "A.*" ? echo "name starts with A"
(0010,0010) !~ "A.*" ? echo
isPresent[(0010,0010)] ? echo "present"
if (modality = "CT") {
    (0008,0070) := "x"
} elseif (modality = "MR") {
    (0008,0070) := "y"
}
else
{
    (0008,0070) := "z"
}
removeAllPrivateTags
(0020,000D) := hashUID[(0020,000D)]
(0008,1195) := newUID[]
'''


def test_every_statement_form_parses():
    script = load_script(EVERY_FORM, "every.das")
    stmts = script.program.statements
    assert script.version == "6.6"
    assert sum(isinstance(s, Delete) for s in stmts) == 8
    assert sum(isinstance(s, Conditional) for s in stmts) == 5
    ifs = [s for s in stmts if isinstance(s, If)]
    assert len(ifs) == 1 and len(ifs[0].branches) == 2 and ifs[0].otherwise is not None
    assign_if_exists = [s for s in stmts if isinstance(s, Assign) and s.if_exists]
    assert [str(s.path) for s in assign_if_exists] == ["(0010,0020)"]
    assert script.variables["secret"].hidden and script.variables["subject"].description == "Trial subject label"
    assert script.variables["session"].export_field == "xnat:imageSessionData/label"
    assert script.external_variables == ["subject"]
    assert script.statement_count == 34  # 30 top-level lines + 3 nested in the if + the conditional actions


def test_script_pickles_for_worker_processes():
    script = load_script(EVERY_FORM, "every.das")
    clone = pickle.loads(pickle.dumps(script))
    assert clone.statement_count == script.statement_count and clone.name == "every.das"


@pytest.mark.parametrize("text, line, column, words", [
    ('version "6.6"\n(0010,0010) := \n', 2, 16, "expected"),
    ('version "6.6"\n(0010,0010) = "x" ? \n', 2, 21, "expected"),
    ('version "6.6"\n(0010,0010) := */(0010,0020)\n', 2, 16, "wildcards"),  # every file would fail on it
    ('version "6.6"\n(0010,001) := "x"\n', 2, 1, "four element digits"),
    ('version "6.6"\n\n  (0010,0010) := frobnicate[(0010,0010)]\n', 3, 18, "unknown function 'frobnicate'"),
    ('version "6.6"\n(0008,0080) := getURL["http://example.org/x"]\n', 2, 16, "network"),
    ('version "6.6"\n(0010,0010) := lowercase["a", "b"]\n', 2, 16, "takes 1 arguments"),
    ('version "6.6"\n(0010,0010) ~ "a(b" ? -(0010,0010)\n', 2, 15, "bad regular expression"),
    ('version "7.0"\n', 1, 1, "unsupported"),
    ('version "6.6"\nelse { -(0010,0010) }\n', 2, 1, "without a matching 'if'"),
    ('version "6.6"\n-(0019,{}10)\n', 2, 2, "empty private creator"),
])
def test_errors_name_line_column_and_reason(text, line, column, words):
    with pytest.raises(ScriptError) as info:
        load_script(text, "bad.das")
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert words in str(err)
    assert str(err).startswith(f"bad.das: line {line}, column {column}: ")


def test_a_syntax_error_says_what_was_expected():
    with pytest.raises(ScriptError) as info:
        load_script('version "6.6"\n(0010,0010) := "a" "b"\n')
    assert "unexpected '\"b\"'" in str(info.value) and "a new line" in str(info.value)
