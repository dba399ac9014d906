"""TG-263 rules on the names the project's reference gives as examples, and the name table."""
import csv
import importlib.util
import io
from importlib import resources
from pathlib import Path

import pytest

from validator.rules import check_name
from validator.tg263 import table

ROOT = Path(__file__).resolve().parents[2]

VALID = ["PTV_High", "PTVp_7000", "GTVp", "CTV_4500", "OpticNrv_PRV03_L", "Lung~_L", "Lungs^Ex", "zPTVopt",
         "SpinalCord_PRV05", "PTV_5040", "PTV_50p4Gy", "PTV!_Low", "CTVn_Eval", "PTV_High-03", "Femur_Head_L",
         "Kidneys", "ITV", "GTVp_MR", "PTV_5040x28", "Bladder-CTV", "Bolus_10mm"]

INVALID = {
    "Lt Femoral Head": {"characters", "laterality"},
    "PTV 60": {"characters"},
    "Left_Parotid": {"laterality"},
    "SpinalCordPRV05mm": {"max_length"},
    "Brainstem_PRV3": {"prv_margin"},  # TG-263: the PRV margin is two digits in mm (issue 16)
    "OpticNerve_Left_PRV05": {"max_length", "laterality"},
    "BLADDER": {"case"},
    "Femoral_Head": {"tg263_list"},
    "PTV_60": {"target_dose"},
    "PTVopt": {"target"},
    "CTV_prostate": {"target_qualifier"},
    "PTV_High_5040": {"target_dose"},
    "PTV_High-3": {"target_crop"},
    "Lung~~_L": {"partial"},
    "Lun~g_L": {"partial"},
    "Lungs^": {"custom_qualifier"},
    "Rectum#1": {"characters"},
}


@pytest.mark.parametrize("name", VALID)
def test_valid_examples_are_standard(name):
    verdict = check_name(name)
    assert verdict.standard, verdict.findings
    assert len(name) <= 16


@pytest.mark.parametrize("name,rules", INVALID.items())
def test_invalid_examples_fail_the_right_rule(name, rules):
    verdict = check_name(name)
    assert not verdict.standard
    assert rules <= {f.rule for f in verdict.errors}, verdict.findings


def test_organ_names_resolve_to_their_primary_name():
    assert check_name("OpticNrv_PRV03_L").primary == "OpticNrv_L"
    assert check_name("Lung~_L").primary == "Lung_L"
    assert check_name("Lungs^Ex").primary == "Lungs"
    assert check_name("zPTVopt").kind == "helper"
    assert check_name("PTVp_7000").kind == "target"


def test_sixteen_characters_is_the_limit():
    assert check_name("Glnd_Submand_L").standard
    assert "max_length" in {f.rule for f in check_name("A" * 17).errors}


def test_name_table_has_the_709_names_with_categories():
    names = table().names
    assert len(names) == 709
    assert names["Femur_Head_L"].laterality == "L"
    assert names["Lungs"].target_type == "Anatomic"
    assert not any(n != n.strip() for n in names)  # worksheet trailing spaces cleaned
    assert names["SpinalCord_PRVxx"].placeholder


def test_data_file_is_what_the_generator_writes():
    pytest.importorskip("tg263")
    spec = importlib.util.spec_from_file_location("generate_tg263", ROOT / "tools" / "generate_tg263.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = resources.files("validator").joinpath("data", "tg263.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#")))))
    assert rows == gen.rows()
    assert "MIT" in text.splitlines()[0] and "tg263" in text.splitlines()[0]
