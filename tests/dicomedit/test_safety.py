"""Hostile scripts fail fast with a ScriptError, never a hang, a RecursionError or a crash."""
from __future__ import annotations

import pytest

from anonymiser.dicomedit import load_script
from anonymiser.dicomedit.limits import MAX_BYTES, MAX_NESTING, MAX_STATEMENTS, MAX_VALUE_LENGTH
from sdu.errors import ScriptError


def test_a_million_statements_are_refused_before_parsing():
    text = 'version "6.6"\n' + "-(0010,0010)\n" * 1_000_000
    with pytest.raises(ScriptError) as info:
        load_script(text, "huge.das")
    assert f"the limit is {MAX_BYTES}" in str(info.value) and info.value.line == 1


def test_statement_count_is_capped_even_when_the_text_is_small():
    text = 'version "6.6"\n' + "-(0010,0010)\n" * (MAX_STATEMENTS + 5)
    with pytest.raises(ScriptError, match=f"more than {MAX_STATEMENTS} statements") as info:
        load_script(text)
    assert info.value.line == MAX_STATEMENTS + 1


@pytest.mark.parametrize("opener, closer, inner", [
    ("lowercase[", "]", '"a"'),
    ("{", "}", '"a"'),
])
def test_deep_nesting_is_refused_with_a_position(opener, closer, inner):
    text = 'version "6.6"\nx := ' + opener * 5000 + inner + closer * 5000 + "\n"
    with pytest.raises(ScriptError, match="nested deeper") as info:
        load_script(text)
    assert info.value.line == 2 and info.value.column == 5 + len(opener) * (MAX_NESTING + 1)  # the first bracket too many


def test_deeply_nested_if_blocks_are_refused():
    text = 'version "6.6"\n' + 'if ((0008,0060) = "CT") {\n' * 400 + "-(0010,0010)\n" + "}\n" * 400
    with pytest.raises(ScriptError, match="nested deeper"):
        load_script(text)


def test_nesting_within_limits_still_runs(ct_small):
    depth = MAX_NESTING // 2 - 2
    text = 'version "6.6"\n(0010,0010) := ' + "lowercase[" * depth + '"ABC"' + "]" * depth
    load_script(text).apply(ct_small)
    assert ct_small.PatientName == "abc"


def test_catastrophic_regex_times_out_and_names_the_line(ct_small, run):
    ct_small.PatientName = "a" * 60
    with pytest.raises(ScriptError, match="regular expression took longer") as info:
        run('\n(0010,0010) ~ "(a|aa)+b" ? -(0010,0010)', ct_small)
    assert info.value.line == 3
    assert "a" * 10 not in str(info.value)


def test_catastrophic_regex_from_a_variable_times_out_too(ct_small, run):
    ct_small.PatientName = "a" * 60
    with pytest.raises(ScriptError, match="took longer"):
        run('pattern := concatenate["(a|aa)", "+b"]\n(0010,0010) ~ pattern ? -(0010,0010)', ct_small)


def test_huge_regex_is_refused_at_load_time():
    with pytest.raises(ScriptError, match="the limit is") as info:
        load_script('version "6.6"\n(0010,0010) ~ "' + "a" * 5000 + '" ? -(0010,0010)')
    assert info.value.line == 2


def test_exponential_value_growth_is_stopped(ct_small, run):
    text = 'x := "0123456789abcdef"\n' + "x := concatenate[x, x]\n" * 40 + "(0010,0010) := x"
    with pytest.raises(ScriptError, match=f"longer than {MAX_VALUE_LENGTH}"):
        run(text, ct_small)


def test_no_file_network_or_shell_functions_exist():
    for name in ("getURL", "readFile", "exec", "system", "open", "include"):
        with pytest.raises(ScriptError) as info:
            load_script(f'version "6.6"\n(0010,0010) := {name}["/etc/passwd"]')
        assert info.value.line == 2 and name in str(info.value)


def test_non_text_input_is_a_script_error():
    with pytest.raises(ScriptError):
        load_script(b"-(0010,0010)")  # type: ignore[arg-type]


def test_runtime_errors_never_quote_values_taken_from_the_file(tmp_path):
    import pydicom
    from pydicom.data import get_testdata_file

    from anonymiser.dicomedit import ScriptContext, load_script
    from sdu.errors import ScriptError
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PatientName = "Quixtable^Marguerite"
    for text in ('set[(0010,0010), "x"]',                                  # the name used as a tag path
                 'echo shiftDateTimeByIncrement[(0008,0020), 1, (0010,0010)]'):  # ... as a unit
        script = load_script('version "6.6"\n' + text, "leak.das")
        with pytest.raises(ScriptError) as info:
            script.apply(ds, ScriptContext(variables={}))
        assert "Quixtable" not in str(info.value) and "line 2" in str(info.value)
