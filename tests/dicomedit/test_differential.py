"""SDU's DicomEdit 6 interpreter against NRG's engine (6.6.0, the version XNAT 1.8.10 runs).

(a) every DicomEdit script the project has (tests/dicomedit/scripts/*.das and the shipped
anonymiser/dicomedit/scripts/*.das) on pydicom's CT, MR, RTSTRUCT, RTPLAN and RTDOSE files;
(b) seeded random scripts over the whole language (tests/dicomedit/scriptgen.py), at least 500
per run. Every resulting element is compared; "error" on both sides agrees. A disagreement is
printed with its script, minimised line by line. One JVM serves the whole session.

Skipped, with the reason, when ../shared/oracles/dicomedit6 (or $SDU_SHARED/oracles/dicomedit6)
is absent or there is no JDK. ``SDU_DIFF_SEED`` and ``SDU_DIFF_COUNT`` change the generated set.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from differential import REPO, VARIABLES, Case, Differential, input_files, unavailable_reason
from scriptgen import generate

pytestmark = pytest.mark.skipif(unavailable_reason() is not None, reason=unavailable_reason() or "")

SCRIPT_DIRS = [Path(__file__).parent / "scripts", REPO / "anonymiser" / "dicomedit" / "scripts"]
SEED = int(os.environ.get("SDU_DIFF_SEED", "20261130"))
COUNT = max(500, int(os.environ.get("SDU_DIFF_COUNT", "1000")))


@pytest.fixture(scope="session")
def differential():
    d = Differential()
    yield d
    d.close()


def _report(d: Differential, cases: list[Case], results: list[list[str]], limit: int = 12) -> str:
    bad = [(c, r) for c, r in zip(cases, results) if r]
    lines = [f"{len(bad)} of {len(cases)} scripts disagree with NRG's engine"]
    for case, diff in bad[:limit]:
        small = d.minimise(case)
        again = d.compare([small])[0] or diff
        lines += [f"--- {case.name} on {case.src.name}, minimised:", small.script.rstrip()]
        lines += [f"    {x}" for x in again[:6]]
    return "\n".join(lines)


def hand_written_cases() -> list[Case]:
    files = input_files()
    cases = []
    for folder in SCRIPT_DIRS:
        for path in sorted(folder.glob("*.das")):
            text = path.read_text(encoding="utf-8")
            for name, src in files.items():
                cases.append(Case(f"{path.name}", text, src, VARIABLES))
    return cases


def test_there_are_hand_written_scripts():
    assert len({c.name for c in hand_written_cases()}) >= 10


def test_hand_written_scripts_agree_with_the_engine(differential):
    cases = hand_written_cases()
    results = differential.compare(cases)
    assert not any(results), _report(differential, cases, results)


def test_generated_scripts_agree_with_the_engine(differential):
    files = list(input_files().values())
    scripts = generate(SEED, COUNT)
    cases = [Case(f"generated #{i} (seed {SEED})", s, files[i % len(files)], VARIABLES) for i, s in enumerate(scripts)]
    results = differential.compare(cases)
    assert not any(results), _report(differential, cases, results)


def test_the_comparison_sees_a_difference(differential):
    """The harness itself: a script whose result SDU and the engine would never share."""
    src = input_files()["CT_small.dcm"]
    same = Case("same", 'version "6.6"\n(0010,0010) := "A"\n', src, VARIABLES)
    assert differential.compare([same]) == [[]]
    # the engine's run of one script against SDU's run of another
    engine = differential.oracle.run([('version "6.6"\n(0010,0010) := "A"\n', src, VARIABLES)])[0]
    from differential import differences, run_sdu
    sdu = run_sdu('version "6.6"\n(0010,0010) := "B"\n', src, VARIABLES)
    assert differences(sdu, engine, False, True) == ["(0010,0010): SDU ('PN', 'B') engine ('PN', 'A')"]
    engine_error = differential.oracle.run([('version "6.6"\n(0010,0010 := "A"\n', src, VARIABLES)])[0]
    assert engine_error[0] == "error" and differences(sdu, engine_error, False, True)


# Former disagreements, each a case that must now agree (the generator reaches them too):
# collectValues lists values in the engine's HashMap order, and mapUID is implemented.
FORMERLY_KNOWN = {
    "collectValues over wildcards, in the engine's hash order":
        ("CT_small.dcm", "(0010,4000) := collectValues[(0010,XXXX), (0028,010@)]"),
    "collectValues over several paths, in the engine's hash order":
        ("rtdose.dcm", "(0010,4000) := collectValues[(0020,000D), (0008,0050)]"),
    "collectValues over a private block takes its creator too":
        ("CT_small.dcm", "(0010,4000) := collectValues[(0009,{GEMS_IDEN_01}XX), (0019,{GEMS_ACQU_01}XX)]"),
    "collectValues over a sequence wildcard, '+' first":
        ("rtplan.dcm", "(0010,4000) := collectValues[+/(300A,XXXX)]"),
    "mapUID gives a UID under the prefix":
        ("CT_small.dcm", '(0010,4000) := mapUID["2.25", "1.2.3"]\n(0010,21B0) := mapUID[(0020,000D), "1.2.840.99"]'),
    "mapUID refuses a prefix that is no UID root":
        ("CT_small.dcm", '(0010,4000) := mapUID[(0020,000D), "1.02.3"]'),
}


@pytest.mark.parametrize("reason", sorted(FORMERLY_KNOWN))
def test_former_disagreement_now_agrees(differential, reason):
    name, body = FORMERLY_KNOWN[reason]
    case = Case(reason, f'version "6.6"\n{body}\n', input_files()[name], VARIABLES)
    assert differential.compare([case])[0] == []


def test_map_uid_is_the_same_for_a_value_across_files_in_both_engines(differential):
    """The engine keeps its map for the life of the JVM (one batch here); SDU for the whole run."""
    script = ('version "6.6"\nstudy := (0020,000D)\n(0010,4000) := mapUID[study, "1.2.840.99"]\n'
              '(0010,21B0) := mapUID[(0020,000D), "1.2.840.99"]\n')  # a tag path maps its own text, not its value
    files = input_files()
    engine = differential.oracle.run([(script, files[n], VARIABLES) for n in ("CT_small.dcm", "CT_small.dcm", "rtdose.dcm")])
    from differential import run_sdu
    sdu = [run_sdu(script, files[n], VARIABLES) for n in ("CT_small.dcm", "CT_small.dcm", "rtdose.dcm")]
    for results in (engine, sdu):
        assert all(status == "ok" for status, _ in results)
        same_study = [str(ds[0x00104000].value) for _, ds in results[:2]]
        fixed = {str(ds[0x001021B0].value) for _, ds in results}
        assert same_study[0] == same_study[1] and same_study[0].startswith("1.2.840.99.")
        assert len(fixed) == 1  # the path's text maps to one UID in every file
        assert str(results[2][1][0x00104000].value) != same_study[0]  # another study, another UID
