"""Every command of the project against the JSON Schema written from the Container Service's model
and the cross-field rules of its ``Command.validate()``; broken commands fail with a message that
names the command, the field and the rule."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from xnatemu.commands import CommandError, check, problems

COMMANDS = Path(__file__).resolve().parents[2] / "containers" / "commands"
CONTRACT = {  # CONTRACT-18-19: command -> (launch inputs, output resource labels)
    "sdu-validate": ({"trial", "arm"}, {"SDU_VALIDATION"}),
    "sdu-relabel": ({"trial", "mapping"}, {"SDU_RELABEL", "SDU_RELABELLED"}),
    "sdu-anonymise": ({"trial", "subject_id"}, {"SDU_ANONYMISE"}),
    "sdu-verify": (set(), {"SDU_VERIFY"}),
    "sdu-approve": ({"comment"}, {"SDU_APPROVAL"}),
    "sdu-upload": ({"share"}, {"SDU_UPLOAD"}),
}


def load(name: str) -> dict:
    return json.loads((COMMANDS / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_command_passes_and_keeps_the_contract(name):
    command = check(load(name))
    assert command["name"] == name and command["image"] == "sdu:latest" and command["type"] == "docker"
    (wrapper,) = command["xnat"]
    assert wrapper["name"] == f"{name}-session" and wrapper["contexts"] == ["xnat:imageSessionData"]
    (session,) = wrapper["external-inputs"]
    assert (session["name"], session["type"], session["provides-files-for-command-mount"]) == ("session", "Session", "session")
    derived = {d["name"]: d for d in wrapper["derived-inputs"]}
    # The session's ID and project: derived from the session the Container Service mounts, never typed.
    assert {(d["derived-from-xnat-object-property"], d["provides-value-for-command-input"], d["user-settable"])
            for d in derived.values()} == {("id", "session_id", False), ("project-id", "project", False)}
    assert command["environment-variables"]["SDU_XNAT_PROJECT"] == "#project#"
    user_inputs = {i["name"] for i in command["inputs"]} - {d["provides-value-for-command-input"] for d in derived.values()}
    assert user_inputs == CONTRACT[name][0]
    assert {h["label"] for h in wrapper["output-handlers"]} == CONTRACT[name][1]
    # No user value reaches the shell: the command line has no replacement key at all.
    assert "#" not in command["command-line"]


def test_no_command_file_is_left_unchecked():
    assert {p.stem for p in COMMANDS.glob("*.json")} == set(CONTRACT)


def test_replacement_key_that_no_input_provides_fails_clearly():
    command = load("sdu-validate")
    command["environment-variables"]["SDU_PROTOCOL"] = "#protocol#"
    with pytest.raises(CommandError) as caught:
        check(command)
    message = str(caught.value)
    assert "'sdu-validate'" in message
    assert "/environment-variables/SDU_PROTOCOL: replacement key #protocol# is provided by no input" in message
    assert "#trial#" in message  # and says which keys the inputs do provide


def test_a_custom_replacement_key_counts_as_provided():
    command = load("sdu-validate")
    command["inputs"][0]["replacement-key"] = "#the_trial#"
    assert any("#trial# is provided by no input" in p for p in problems(command))  # the default key is gone
    command["environment-variables"]["SDU_TRIAL"] = "#the_trial#"
    assert problems(command) == []


def test_field_the_model_does_not_have_fails_clearly():
    command = load("sdu-verify")
    command["xnat"][0]["output-handlers"][0]["upload-as"] = "assessor"
    found = problems(command)
    assert found == ["/xnat/0/output-handlers/0: Additional properties are not allowed ('upload-as' was unexpected)"]
    command = load("sdu-verify")
    command["timeout"] = 60
    assert problems(command) == ["/: Additional properties are not allowed ('timeout' was unexpected)"]


@pytest.mark.parametrize("edit, expected", [
    (lambda c: c["outputs"][0].update(mount="nowhere"), "output 'report' references unknown mount 'nowhere'"),
    (lambda c: c["xnat"][0]["output-handlers"].clear(), "command output 'report' is not handled by any output handler"),
    (lambda c: c["xnat"][0]["derived-inputs"][0].update({"derived-from-wrapper-input": "scan"}),
     "derived input 'session-id' is derived from an unknown XNAT input 'scan'"),
    (lambda c: c["xnat"][0]["output-handlers"][0].update({"as-a-child-of": "session-id"}),
     "whose value is its 'id' (a uri is needed to upload)"),
    (lambda c: c["xnat"][0]["output-handlers"][0].pop("label"), "'label' is a required property"),
    (lambda c: c.update(image="sdu"), "does not match"),
    (lambda c: c["inputs"][0].update(type="select-one"), "is of type select-one but lists no select-values"),
    (lambda c: c["mounts"].append(dict(c["mounts"][0])), "mount name 'session' is not unique"),
    (lambda c: c.setdefault("secrets", []).append({"source": {"type": "system-property", "identifier": "x"},
                                                     "destination": {"type": "environment-variable",
                                                                     "identifier": "XNAT_PASS"}}),
     "secret uses the reserved environment variable XNAT_PASS"),
    (lambda c: c["inputs"].append({"name": "bad name"}), "does not match '^[A-Za-z0-9_-]+$'"),
])
def test_rules_of_command_validate(edit, expected):
    command = copy.deepcopy(load("sdu-verify"))
    edit(command)
    found = problems(command)
    assert any(expected in p for p in found), found
