"""Trial protocols: schema and semantic errors name the JSON pointer; site overrides bundled."""
import json
import shutil

import pytest
from click.testing import CliRunner

from sdu.cli.main import cli
from sdu.errors import ProtocolError
from validator import TrialProtocol, find_protocol, list_protocols
from validator.registry import bundled_dir

BUNDLED = ["EXAMPLE-PROSTATE", "EXAMPLE-HN", "EXAMPLE-LUNG-SABR"]


def _prostate() -> dict:
    return json.loads((bundled_dir() / "EXAMPLE-PROSTATE.json").read_text())


def _write(tmp_path, data, name="p.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("trial", BUNDLED)
def test_bundled_examples_load_and_say_they_are_not_clinical(trial):
    p = find_protocol(trial)
    assert p.id == trial and p.illustrative
    assert "NOT CLINICAL" in p.title and "not clinical values" in p.description
    assert any(s.required for s in p.structures)
    assert {o.modality for o in p.objects} >= {"CT", "RTSTRUCT", "RTPLAN", "RTDOSE"}


def test_prostate_arms_change_what_is_required():
    p = find_protocol("EXAMPLE-PROSTATE")
    bowel = next(s for s in p.structures if s.name == "Bowel")
    assert bowel.is_required("pelvic_nodes") and not bowel.is_required("prostate_only")
    assert not bowel.is_required(None)
    with pytest.raises(ProtocolError) as exc:
        p.arm("no_such_arm")
    assert exc.value.pointer == "/arms"


@pytest.mark.parametrize("edit,pointer,rule", [
    (lambda d: d["objects"][1].__setitem__("min", "one"), "/objects/1/min", "type"),
    (lambda d: d.pop("title"), "/title", "required"),
    (lambda d: d["structures"][2].__setitem__("type", "TUMOUR"), "/structures/2/type", "enum"),
    (lambda d: d["structures"][0].__setitem__("required", "yes"), "/structures/0/required", "oneOf"),
    (lambda d: d.__setitem__("colour", "blue"), "/", "additionalProperties"),
])
def test_schema_error_is_rejected_with_json_pointer_and_rule(tmp_path, edit, pointer, rule):
    data = _prostate()
    edit(data)
    with pytest.raises(ProtocolError) as exc:
        TrialProtocol.from_file(_write(tmp_path, data))
    assert exc.value.pointer == pointer
    assert f"schema rule '{rule}'" in str(exc.value)
    assert str(tmp_path / "p.json") in str(exc.value)


@pytest.mark.parametrize("edit,pointer,rule", [
    (lambda d: d["structures"][9]["required"]["arms"].append("third_arm"), "/structures/9/required/arms/1", "known arm"),
    (lambda d: d["structures"][4].__setitem__("synonyms", ["PTV_6000"]), "/structures/4/synonyms/0", "unique names"),
    (lambda d: d["structures"][4].__setitem__("name", "Lt Femoral Head"), "/structures/4/name", "TG-263 name"),
    (lambda d: d["structures"][5].__setitem__("name", "Bladder"), "/structures/5/name", "unique names"),
    (lambda d: d["ignore_patterns"].append("(unclosed"), "/ignore_patterns/3", "regular expression"),
    (lambda d: d["objects"][0].__setitem__("max", 0), "/objects/0/max", "min <= max"),
    (lambda d: d["arms"].append({"id": "pelvic_nodes"}), "/arms/2/id", "unique arm id"),
])
def test_semantic_error_is_rejected_with_json_pointer_and_rule(tmp_path, edit, pointer, rule):
    data = _prostate()
    edit(data)
    with pytest.raises(ProtocolError) as exc:
        TrialProtocol.from_file(_write(tmp_path, data))
    assert exc.value.pointer == pointer
    assert rule in str(exc.value)


def test_broken_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"id": "X",\n  "title": }')
    with pytest.raises(ProtocolError, match="line 2, column"):
        TrialProtocol.from_file(path)


def test_site_protocol_overrides_bundled_and_adds_trials(site_dir):
    (site_dir / "protocols").mkdir(parents=True)
    data = _prostate()
    data["version"] = "9.9-site"
    _write(site_dir / "protocols", data, "mine.json")
    data = dict(data, id="SITE-ONLY", title="a site trial")
    _write(site_dir / "protocols", data, "other.json")
    assert find_protocol("EXAMPLE-PROSTATE").version == "9.9-site"
    assert find_protocol("SITE-ONLY").title == "a site trial"
    entries = {(e.id, e.source): e for e in list_protocols()}
    assert entries[("EXAMPLE-PROSTATE", "bundled")].overridden
    assert not entries[("EXAMPLE-HN", "bundled")].overridden


def test_invalid_site_protocol_never_falls_back_to_bundled(site_dir):
    (site_dir / "protocols").mkdir(parents=True)
    data = _prostate()
    data["objects"] = []
    _write(site_dir / "protocols", data, "bad.json")
    with pytest.raises(ProtocolError) as exc:
        find_protocol("EXAMPLE-PROSTATE")
    assert exc.value.pointer == "/objects"
    bad = [e for e in list_protocols() if e.source == "site"]
    assert bad and bad[0].error


def test_unknown_trial_lists_known_ones():
    with pytest.raises(ProtocolError, match="EXAMPLE-HN"):
        find_protocol("NOPE")


def test_cli_protocols_list_show_check(tmp_path):
    runner = CliRunner()
    out = runner.invoke(cli, ["protocols", "list", "--json"])
    assert out.exit_code == 0
    assert {e["id"] for e in json.loads(out.output)} >= set(BUNDLED)
    out = runner.invoke(cli, ["protocols", "show", "EXAMPLE-HN"])
    assert out.exit_code == 0 and '"id": "EXAMPLE-HN"' in out.output
    good = shutil.copy(bundled_dir() / "EXAMPLE-LUNG-SABR.json", tmp_path / "lung.json")
    out = runner.invoke(cli, ["protocols", "check", str(good)])
    assert out.exit_code == 0 and "ok: EXAMPLE-LUNG-SABR" in out.output
    data = _prostate()
    data["structures"][0]["synonyms"] = "Body"
    out = runner.invoke(cli, ["protocols", "check", str(_write(tmp_path, data))])
    assert out.exit_code == ProtocolError.exit_code
    assert "/structures/0/synonyms" in out.output and "'type'" in out.output
