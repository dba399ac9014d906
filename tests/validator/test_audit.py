"""The audit log is append-only JSON lines in the site folder and accepts only plain values."""
import json
import stat

import pytest
from pydicom.valuerep import PersonName

from sdu import audit


def test_appends_one_json_line_per_record(site_dir):
    audit.record("relabel", renamed={"BODY": "External"}, count=1)
    audit.record("relabel", renamed={}, count=0)
    path = site_dir / "audit.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["count"] for e in lines] == [1, 0]
    assert all(e["action"] == "relabel" and e["time"].endswith("+00:00") for e in lines)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_refuses_dicom_values(site_dir):
    with pytest.raises(TypeError, match="PersonName"):
        audit.record("relabel", who=PersonName("Quixtable^Marguerite"))
    assert not (site_dir / "audit.jsonl").exists()
