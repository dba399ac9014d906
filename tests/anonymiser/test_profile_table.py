"""The Annex E table is data: every code in it is one the engine knows, and options resolve."""
from anonymiser import engine
from sdu.standard import annex_e


def test_every_action_code_in_the_table_is_known_and_handled():
    codes = {r.basic for r in annex_e.rows()} | {c for r in annex_e.rows() for _, c in r.options}
    assert codes <= annex_e.ACTION_CODES
    for code in codes:
        resolved = engine.COMBINED.get(code, code)
        assert resolved in engine.ACTIONS, code


def test_table_covers_the_current_edition():
    rows = annex_e.rows()
    assert len(rows) >= 650
    assert annex_e.row_for(0x00100010).basic == "Z"            # PatientName
    assert annex_e.row_for(0x60023000).name == "Overlay Data"  # repeating group 60xx
    assert annex_e.row_for(0x300A00B2).basic == "X/Z"          # Treatment Machine Name, changed since 2020


def test_options_override_the_basic_action():
    roi_name = annex_e.row_for(0x30060026)
    assert roi_name.action(frozenset()) == "Z"
    assert roi_name.action(frozenset({"cleanDescOpt"})) == "C"
    study_date = annex_e.row_for(0x00080020)
    assert study_date.action(frozenset({"rtnLongModifDatesOpt"})) == "C"
    assert study_date.action(frozenset({"rtnLongFullDatesOpt"})) == "K"
    station = annex_e.row_for(0x00081010)
    assert station.action(frozenset({"rtnDevIdOpt", "cleanDescOpt"})) == "K"


def test_option_codes_are_cid_7050():
    codes = {o.code for o in annex_e.options().values()}
    assert codes == {f"1131{n:02d}" for n in range(3, 13)}
