"""The person-name rule leaves legitimate descriptors alone (issue 14, item 4: measure false positives).

With no subject terms at all, only the name-pattern rule (titles, "by", given name + surname
from the lists) can change a text: every TG-263 name and description and every descriptor
of pydicom's local test files must come out unchanged.
"""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import pydicom
from pydicom.data.data_manager import DATA_ROOT

from anonymiser.personnames import name_lists
from anonymiser.spellings import Terms, scrubber

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTORS = {"StudyDescription", "SeriesDescription", "ProtocolName", "ROIName", "ROIDescription",
               "ROIObservationLabel", "RTPlanLabel", "RTPlanName", "RTPlanDescription", "StructureSetLabel",
               "StructureSetName", "StructureSetDescription", "BeamName", "BeamDescription", "ImageComments",
               "PerformedProcedureStepDescription", "RequestedProcedureDescription", "CodeMeaning",
               "ContentLabel", "ContentDescription", "FractionGroupDescription", "DoseComment", "BodyPartExamined",
               "DerivationDescription", "SeriesDescriptionCodeSequence", "Manufacturer", "ManufacturerModelName",
               "InstitutionalDepartmentName", "TextValue", "AcquisitionDeviceProcessingDescription"}


def _tg263_texts() -> list[str]:
    with open(ROOT / "validator" / "data" / "tg263.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    assert len(rows) == 709
    return [r["name"] for r in rows] + [r["description"] for r in rows if r["description"]]


def _pydicom_descriptors() -> list[str]:
    out = []
    for path in sorted(Path(DATA_ROOT, "test_files").rglob("*")):
        if not path.is_file():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ds = pydicom.dcmread(path, force=True)
                elements = list(ds.iterall())
            except Exception:  # noqa: BLE001 - not DICOM, or deliberately broken: nothing to measure
                continue
            for e in elements:
                if e.keyword in DESCRIPTORS and e.VR in ("SH", "LO", "ST", "LT", "UT", "UC", "CS"):
                    values = e.value if isinstance(e.value, (list, pydicom.multival.MultiValue)) else [e.value]
                    out += [v for v in values if isinstance(v, str) and v.strip()]
    return out


def test_no_tg263_name_is_changed():
    s = scrubber(Terms())
    texts = _tg263_texts()
    changed = [t for t in texts if s.sub(t) != t]
    assert changed == []
    # and as ROI names with the lists' favourite collisions around them
    assert s.sub("Brain Heart Long Bladder Lens_L Parotid_R") == "Brain Heart Long Bladder Lens_L Parotid_R"


def test_no_pydicom_descriptor_is_changed():
    s = scrubber(Terms())
    texts = _pydicom_descriptors()
    assert len(texts) > 200  # the measurement covers real descriptors
    assert [t for t in texts if s.sub(t) != t] == []


def test_the_rule_does_catch_names():
    """The same scrubber is not blind: the measurement above would mean nothing if it were."""
    s = scrubber(Terms())
    given, surnames = name_lists()
    assert len(given) > 5000 and len(surnames) > 5000 and "Brain" not in given
    for text in ("Contoured by Dr Quillfeather", "Planned by J. Abernathy", "Prof. SMITH approved",
                 "Mrs van der Berg", "Anna Schmidt checked", "Reviewed by Kowalski"):
        assert "XXXX" in s.sub(text), text


def test_clinical_roi_names_survive_anonymisation(clinical_study, tmp_path):
    """ROI names as a clinic types them come out as they went in (the whole pipeline, not only
    the rule): no name pattern, no list word, no subject term touches them."""
    from anonymiser import AnonymiseOptions, anonymise_folder
    report = anonymise_folder(clinical_study.root, tmp_path / "out",
                              AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    assert report.failed == 0
    before = [r.ROIName for r in pydicom.dcmread(clinical_study.rtstruct).StructureSetROISequence]
    (rs,) = [p for p in (tmp_path / "out").rglob("*.dcm") if pydicom.dcmread(p, stop_before_pixels=True).Modality == "RTSTRUCT"]
    assert [r.ROIName for r in pydicom.dcmread(rs).StructureSetROISequence] == before
