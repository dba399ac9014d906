"""xnatemu.launcher resolves commands as NrgXnat/container-service docs/command.md and
docs/command-resolution.md say (no container is run here: the image label comes from a stub engine)."""
from __future__ import annotations

import json
import subprocess
from types import SimpleNamespace

import pytest

from xnatemu import Emulator
from xnatemu.launcher import Engine, LaunchError, Launcher

# docs/command.md, "More complex command-line example", with an empty wrapper to launch it through.
COMPLEX = {
    "name": "complex-example", "description": "An example Command with more complex inputs", "type": "docker",
    "image": "busybox:latest", "command-line": "/run/my_script.sh [THE_BOOLEAN] a-string",
    "environment-variables": {"STR_VAL": "a-string", "BOOL_VAL": "[THE_BOOLEAN]"},
    "inputs": [
        {"name": "the_boolean", "description": "A boolean input", "type": "boolean", "default-value": False,
         "replacement-key": "[THE_BOOLEAN]", "true-value": "T", "false-value": "F",
         "command-line-flag": "--bool", "command-line-separator": "="},
        {"name": "the_string", "description": "A string input", "type": "string", "replacement-key": "a-string",
         "command-line-flag": "--str"},
    ],
    "xnat": [{"name": "complex-example-wrapper", "contexts": ["xnat:imageSessionData"]}],
}


class StubEngine(Engine):
    def __call__(self, *args, **kw):
        labels = {"org.nrg.commands": json.dumps(self.run_args[0])}
        return subprocess.CompletedProcess(args, 0, json.dumps(labels), "")


def launcher(tmp_path, *commands, xnat=None) -> Launcher:
    xnat = xnat or SimpleNamespace(url="http://127.0.0.1:9")  # resolution alone never calls the XNAT
    return Launcher(xnat, "stub:latest", tmp_path, engine=StubEngine(("stub",), (list(commands),)))


def test_the_documented_complex_example_resolves_as_documented(tmp_path):
    launch = launcher(tmp_path, COMPLEX)
    r = launch.resolve("complex-example-wrapper", {})
    assert r["command_line"] == "/run/my_script.sh --bool=F "
    assert r["environment"] == {"STR_VAL": "", "BOOL_VAL": "F"}
    r = launch.resolve("complex-example-wrapper", {"the_boolean": "true", "the_string": "Hey"})
    assert r["command_line"] == "/run/my_script.sh --bool=T --str Hey"
    assert r["environment"] == {"STR_VAL": "Hey", "BOOL_VAL": "T"}


def test_required_input_unknown_input_and_matcher_refuse_the_launch(tmp_path):
    command = json.loads(json.dumps(COMPLEX))
    command["inputs"][1]["required"] = True
    launch = launcher(tmp_path, command)
    with pytest.raises(LaunchError, match="required input 'the_string' has no value"):
        launch.resolve("complex-example-wrapper", {})
    with pytest.raises(LaunchError, match="unknown launch inputs: nope"):
        launch.resolve("complex-example-wrapper", {"the_string": "x", "nope": "1"})
    command["xnat"][0]["external-inputs"] = [{"name": "s", "type": "string", "matcher": "@.x == 1"}]
    with pytest.raises(LaunchError, match="matcher"):
        launcher(tmp_path, command).resolve("complex-example-wrapper", {"the_string": "x"})


def test_a_command_the_server_would_refuse_is_refused_at_install(tmp_path):
    command = json.loads(json.dumps(COMPLEX))
    command["environment-variables"]["X"] = "#missing#"
    with pytest.raises(ValueError, match="replacement key #missing# is provided by no input"):
        launcher(tmp_path, command)


def test_session_input_derived_property_and_mount(tmp_path):
    from pathlib import Path

    sdu_validate = json.loads((Path(__file__).resolve().parents[2] / "containers" / "commands"
                               / "sdu-validate.json").read_text())
    with Emulator() as emu:
        emu.archive.create_project("P1")
        subject, _ = emu.archive.create_subject("P1", "S1")
        e, _ = emu.archive.create_experiment("P1", subject, "E1", "xnat:ctSessionData")
        e.resources["NOTES"] = emu.archive.new_resource("NOTES")
        e.resources["NOTES"].files["a.txt"] = b"x"
        r = launcher(tmp_path, sdu_validate, xnat=emu).resolve(
            "sdu-validate-session", {"session": f"/archive/experiments/{e.id}", "trial": "T1", "project": "OTHER"})
    assert r["command_line"] == "sdu-xnat validate"  # user values never enter the command line
    # The session's project is derived from the session: a launch value for it is overridden.
    assert r["environment"] == {"SDU_TRIAL": "T1", "SDU_ARM": "", "SDU_XNAT_SESSION_ID": e.id, "SDU_XNAT_PROJECT": "P1"}
    assert r["mounts_from"] == {"session": "session"}
    folder = Path(r["objects"]["session"]["directory"])
    assert (folder / "RESOURCES" / "NOTES" / "a.txt").read_bytes() == b"x"
    assert "<cat:entry URI=\"a.txt\"" in (folder / "RESOURCES" / "NOTES" / "NOTES_catalog.xml").read_text()
    assert r["objects"]["session"]["uri"] == f"/experiments/{e.id}"
