"""A clean set passes; the identifiable input fails; the report never carries an identifying value."""
from __future__ import annotations

import json

from sdu.studygen import PLANTED
from verifier import VerifyOptions, verify_folder


def test_clean_set_passes_every_check(clean, source_study):
    report = verify_folder(clean.root, VerifyOptions(against=source_study.root))
    assert report.ok, [(f.path, f.findings) for f in report.files if not f.ok]
    assert len(report.files) == 9 and report.files_failed == 0
    assert {"record", "profile", "private", "uids", "identifiers", "references", "raw bytes"} <= set(report.checks)
    assert report.notes == []
    assert report.sources["identifiers"] > 10 and report.sources["original_uids"] >= 9 + 5


def test_identifiable_input_fails_against_itself(source_study):
    report = verify_folder(source_study.root, VerifyOptions(against=source_study.root))
    assert not report.ok and report.files_failed == len(report.files) == 9
    ct = next(f for f in report.files if f.modality == "CT")
    checks = {(x.check, x.keyword_path) for x in ct.findings}
    assert ("record", "PatientIdentityRemoved") in checks
    assert ("private", "(0011,1010)") in checks
    assert ("profile", "PatientAddress") in checks            # an X element present
    assert ("identifiers", "PatientName") in checks
    assert ("uids", "SOPInstanceUID") in checks
    assert ("uids", "MediaStorageSOPInstanceUID") in checks   # file meta too
    assert ("identifiers", "RequestAttributesSequence[0].RequestedProcedureDescription") in checks


def test_identifiable_input_fails_without_originals_and_says_what_did_not_run(source_study):
    report = verify_folder(source_study.root, VerifyOptions())
    assert not report.ok
    assert "identifiers" not in report.checks and "uids" not in report.checks
    assert any("identifier check did not run" in n for n in report.notes)
    kinds = {x.check for f in report.files for x in f.findings}
    assert {"record", "private", "profile"} <= kinds and "identifiers" not in kinds


def test_clean_set_passes_without_originals_with_a_note(clean):
    report = verify_folder(clean.root, VerifyOptions())
    assert report.ok and len(report.notes) == 2


def test_report_never_contains_an_identifying_value(source_study):
    report = verify_folder(source_study.root, VerifyOptions(against=source_study.root))
    text = json.dumps(report.to_dict())
    assert report.findings_total > 100
    for kind, value in PLANTED.items():
        assert value.lower() not in text.lower(), kind
    assert source_study.uids["study"] not in text


def test_empty_folder_does_not_pass(tmp_path):
    (tmp_path / "empty").mkdir()
    report = verify_folder(tmp_path / "empty", VerifyOptions())
    assert not report.ok and report.files == [] and any("no files" in n for n in report.notes)
