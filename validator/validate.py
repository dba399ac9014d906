"""``validate_session``: check a session folder against a trial protocol, before anonymisation."""
from __future__ import annotations

from pathlib import Path

from . import checks
from .names import classify
from .protocol import TrialProtocol
from .report import ValidationReport
from .session import read_session, roi_table


def validate_session(folder: str | Path, protocol: TrialProtocol, arm: str | None = None) -> ValidationReport:
    """Read ``folder`` (recursively, header-only) and run every check; never modifies a file.

    Raises :class:`sdu.errors.ProtocolError` for an arm the protocol does not have.
    """
    if arm is not None:
        protocol.arm(arm)
    session = read_session(folder)
    names = [name for s in session.of("RTSTRUCT") for _, name, _, _ in roi_table(s.dataset)]
    verdicts = {name: classify(name, protocol) for name in dict.fromkeys(names)}
    report = ValidationReport(protocol.id, protocol.version, arm, files=len(session.objects),
                              skipped=[{"path": session.relative(Path(s.path)), "reason": s.reason}
                                       for s in session.skipped])
    report.names = [verdicts[n] for n in names]
    report.checks += checks.files_read(session)
    report.checks += checks.required_objects(session, protocol)
    report.checks += checks.one_patient_and_study(session)
    report.checks += checks.frame_of_reference(session)
    report.checks += checks.image_references(session)
    report.checks += checks.plan_references(session)
    report.checks += checks.structures(session, protocol, verdicts, arm)
    report.checks += checks.nomenclature(protocol, report.names)
    report.checks += checks.duplicates(report.names)
    report.checks += checks.prescription(session, protocol.prescription_for(arm))
    return report
