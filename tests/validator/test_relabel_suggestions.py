"""`relabel --accept-suggestions` on a study named with the clinical spellings list (issue 16): every
confident suggestion applied is the right TG-263 name, and only low-confidence names are left for a person."""
import csv
import json
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from sdu.cli.main import cli
from sdu.studygen import StudySpec, generate_study
from validator import classify, find_protocol, relabel_with_suggestions, validate_session
from validator.relabel import ACCEPT_THRESHOLD

LIST = Path(__file__).parent / "data" / "roi_name_spellings.csv"
HN = find_protocol("EXAMPLE-HN")  # its structures are TG-263 names: the expected names stand


def spellings() -> list[tuple[str, str, str]]:
    lines = [line for line in LIST.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [(r["class"], r["typed"], r["expected"]) for r in csv.DictReader(lines)]


@pytest.fixture(scope="module")
def listed_study(tmp_path_factory):
    names = [typed for _, typed, _ in spellings()]
    root = tmp_path_factory.mktemp("listed")
    return generate_study(root / "study", StudySpec(slices=2, rows=16, columns=16, roi_names=names, empty_rois=names))


def _roi_names(folder):
    rtstruct = next(p for p in folder.rglob("*") if p.is_file() and pydicom.dcmread(p, stop_before_pixels=True).Modality == "RTSTRUCT")
    return [r.ROIName for r in pydicom.dcmread(rtstruct).StructureSetROISequence]


def test_only_right_names_applied_and_low_confidence_left_for_a_person(listed_study, tmp_path):
    expected = {typed: expected for _, typed, expected in spellings()}
    report = relabel_with_suggestions(listed_study.root, tmp_path / "out", HN)

    wrong = {old: (new, expected[old]) for old, new in report.renamed.items() if new != expected[old]}
    assert wrong == {}
    left = {v.roi_name: v for v in report.left_for_person}
    for name, verdict in left.items():  # listed for a person: nothing scored the threshold
        assert all(s.score < ACCEPT_THRESHOLD for s in verdict.suggestions), name
    ignored = {t for t in expected if classify(t, HN).status == "ignored"}
    assert set(report.renamed) | set(left) | ignored == set(expected)  # every spelling accounted for
    assert not set(report.renamed) & set(left)
    assert {t for t, e in expected.items() if not e} - ignored <= set(left)  # no TG-263 name: a person decides
    assert len(report.renamed) >= 0.9 * sum(1 for e in expected.values() if e)

    after = _roi_names(tmp_path / "out")
    assert sorted(after) == sorted(report.renamed.get(t, t) for t in expected)
    standard = {v.roi_name: v.status for v in validate_session(tmp_path / "out", HN).names}
    assert all(standard[new] in ("standard", "synonym") for new in report.renamed.values())


def test_cli_names_the_structures_left_for_a_person(listed_study, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["relabel", str(listed_study.root), "--out", str(out), "--accept-suggestions",
                                   "--trial", "EXAMPLE-HN", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    left = {item["roi_name"]: item["suggestions"] for item in report["left_for_person"]}
    assert "Isocenter 1" in left and left["Isocenter 1"] == []
    assert left["parotd left"][0]["name"] == "Parotid_L" and left["parotd left"][0]["score"] < ACCEPT_THRESHOLD
    assert "typo" in left["parotd left"][0]["explanation"]
    assert report["renamed"]["Lkidney"] == "Kidney_L" and report["renamed"]["prv3_brainstem"] == "Brainstem_PRV03"

    res = CliRunner().invoke(cli, ["relabel", str(listed_study.root), "--out", str(tmp_path / "o2"),
                                   "--accept-suggestions", "--trial", "EXAMPLE-HN"])
    assert res.exit_code == 0
    assert "'LargeBowel' -> 'Bowel_Large'" in res.stdout
    assert f"left for a person: {len(left)} names" in res.stderr
    assert "'Isocenter 1': no suggestion" in res.stderr


def test_nothing_confident_nothing_written(tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    from sdu.errors import ConfigError

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(get_testdata_file("rtstruct.dcm"), src / "rtstruct.dcm")  # ROIs "patient", "Isocenter 1", "Isocenter 2"
    with pytest.raises(ConfigError, match="nothing to rename"):
        relabel_with_suggestions(src, tmp_path / "out", HN)
    assert not (tmp_path / "out").exists()
    report = relabel_with_suggestions(src, tmp_path / "out", HN, mapping={"patient": "External"})
    assert report.renamed == {"patient": "External"}
    assert [v.roi_name for v in report.left_for_person] == ["Isocenter 1", "Isocenter 2"]
