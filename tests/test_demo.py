"""The main job (`./sdu-demo` runs `sdu demo`): every step behaves as it must, on a small study."""
from click.testing import CliRunner

from sdu.cli.main import cli
from sdu.demo import run_demo


def test_demo_takes_a_study_from_pacs_to_verified_output(tmp_path):
    report = run_demo(tmp_path / "demo", slices=6, size=32)
    assert [s.name for s in report.steps] == [
        "generate", "intake (C-STORE to sdu receive)", "validate against EXAMPLE-PROSTATE (must fail)",
        "relabel (suggestions accepted)", "validate again", "anonymise", "verify output", "verify input (must fail)",
        "review", "approve", "upload to central XNAT (emulated on loopback)", "shared into the trial project"]
    failed = [(s.name, s.summary) for s in report.steps if not s.ok]
    assert not failed and report.ok
    assert (tmp_path / "demo" / "anonymised" / "sdu-report.verify.json").exists()
    # The session that reached the (emulated) central XNAT is the anonymised one, labelled by its folders.
    subject = next(p for p in (tmp_path / "demo" / "anonymised").iterdir() if p.is_dir())
    session = next(subject.iterdir()).name
    upload, shared = report.steps[-2:]
    review = report.steps[-4]
    assert review.summary.startswith("verification passed; ") and "RTSTRUCT" in review.summary
    assert f"session {session} of subject {subject.name} in project SITE01" in upload.summary
    assert f"project EXAMPLE_PROSTATE lists session {session}" in shared.summary


def test_demo_command_prints_no_identifier(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "d"), "--slices", "4", "--size", "16"])
    assert result.exit_code == 0, result.output
    assert "all steps behaved as they must" in result.output
    for planted in ("Quixtable", "Marguerite", "HOSP483920"):
        assert planted not in result.output
