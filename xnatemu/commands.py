"""Container Service command documents: the JSON Schema, the rules of ``Command.validate()``, and
replacement keys.

:func:`problems` answers every problem of one command as a sentence naming the command, the
field (JSON pointer) and the rule: first the JSON Schema ``containers/command.schema.json``
(properties of NrgXnat/container-service's ``model/command/auto/Command.java``; a property the
model does not have is an error), then the checks ``Command.validate()`` makes across fields
(unique names; outputs name known mounts; derived inputs name a parent declared before them; output
handlers accept a known command output, hang on a known wrapper input or earlier handler, not on a
``multiple`` one nor on a derived input whose value is not its ``uri``; every output is handled;
select inputs have ``select-values``; secrets do not reuse ``XNAT_*`` or an environment
variable), then two checks the server leaves to launch time: a ``provides-…`` reference to an
unknown command input or mount, and a replacement key (``#name#``) used in a resolved template that
no input provides: the Container Service would leave it in the command line as it stands.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent.parent / "containers" / "command.schema.json"
RESERVED_ENV = {"XNAT_USER", "XNAT_PASS", "XNAT_HOST"}
KEY = re.compile(r"#[A-Za-z0-9_-]+#")


class CommandError(ValueError):
    """A command document the Container Service would refuse or resolve wrongly."""

    def __init__(self, name: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"command {name!r}: " + "; ".join(problems))


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def replacement_key(item: dict) -> str:
    return item.get("replacement-key") or f"#{item['name']}#"


def _pointer(path) -> str:
    return "/" + "/".join(str(p) for p in path)


def problems(command: dict) -> list[str]:
    """Every problem of ``command`` (empty: the Container Service accepts and resolves it)."""
    found = [f"{_pointer(e.absolute_path)}: {e.message}"
             for e in sorted(_validator().iter_errors(command), key=lambda e: list(map(str, e.absolute_path)))]
    if found:  # the cross-field rules assume the shapes the schema guarantees
        return found
    return _rules(command)


def check(command: dict) -> dict:
    """``command`` unchanged, or :class:`CommandError` naming every problem."""
    found = problems(command)
    if found:
        raise CommandError(str(command.get("name")), found)
    return command


def _dupes(kind: str, pointer: str, names: list[str]) -> list[str]:
    seen, out = set(), []
    for name in names:
        if name in seen:
            out.append(f"{pointer}: {kind} name {name!r} is not unique")
        seen.add(name)
    return out


def _rules(c: dict) -> list[str]:
    out: list[str] = []
    mounts = [m["name"] for m in c.get("mounts", [])]
    inputs = {i["name"]: i for i in c.get("inputs", [])}
    outputs = [o["name"] for o in c.get("outputs", [])]
    out += _dupes("mount", "/mounts", mounts)
    out += _dupes("input", "/inputs", [i["name"] for i in c.get("inputs", [])])
    out += _dupes("output", "/outputs", outputs)
    out += _dupes("wrapper", "/xnat", [w["name"] for w in c.get("xnat", [])])
    if c["type"] != "docker":
        for field in ("mounts", "inputs", "outputs", "xnat", "environment-variables", "ports", "secrets"):
            if c.get(field):
                out.append(f"/{field}: {c['type']} commands cannot declare any {field}")
    for n, i in enumerate(c.get("inputs", [])):
        select = i.get("type") in ("select-one", "select-many")
        values = i.get("select-values") or []
        if select and not values:
            out.append(f"/inputs/{n}: input {i['name']!r} is of type {i['type']} but lists no select-values")
        if not select and values:
            out.append(f"/inputs/{n}: input {i['name']!r} has select-values but is not a select type")
        default = i.get("default-value")
        if values and default is not None and i.get("type") == "select-one" and str(default) not in values:
            out.append(f"/inputs/{n}: input {i['name']!r} default value is not one of its select-values")
    for n, o in enumerate(c.get("outputs", [])):
        if o["mount"] not in mounts:
            out.append(f"/outputs/{n}: output {o['name']!r} references unknown mount {o['mount']!r} "
                       f"(known: {', '.join(mounts) or 'none'})")
    env = c.get("environment-variables") or {}
    for n, s in enumerate(c.get("secrets", [])):
        name = s["destination"]["identifier"]
        if name in RESERVED_ENV:
            out.append(f"/secrets/{n}: secret uses the reserved environment variable {name}")
        if name in env:
            out.append(f"/secrets/{n}: secret and environment-variables both set {name}")
    keys = {replacement_key(i) for i in c.get("inputs", [])}
    for w_n, w in enumerate(c.get("xnat", [])):
        wp = f"/xnat/{w_n}"
        known: dict[str, dict] = {}
        multiple: set[str] = set()
        for kind in ("external-inputs", "derived-inputs"):
            for n, i in enumerate(w.get(kind, [])):
                p = f"{wp}/{kind}/{n}"
                if i["name"] in known:
                    out.append(f"{p}: {kind[:-7]} input name {i['name']!r} is not unique")
                if kind == "derived-inputs":
                    parent = i["derived-from-wrapper-input"]
                    if parent == i["name"]:
                        out.append(f"{p}: derived input {i['name']!r} is derived from itself")
                    elif parent not in known:
                        out.append(f"{p}: derived input {i['name']!r} is derived from an unknown XNAT input "
                                   f"{parent!r} (known: {', '.join(known) or 'none'})")
                    if i.get("multiple"):
                        multiple.add(i["name"])
                        if i.get("provides-files-for-command-mount"):
                            out.append(f"{p}: derived input {i['name']!r} is 'multiple' and cannot provide files "
                                       "for a mount")
                        if not i.get("provides-value-for-command-input"):
                            out.append(f"{p}: derived input {i['name']!r} is 'multiple' and must provide a value "
                                       "for a command input")
                known[i["name"]] = i
                keys.add(replacement_key(i))
                target = i.get("provides-value-for-command-input")
                if target:
                    if target not in inputs:
                        out.append(f"{p}: input {i['name']!r} provides a value for unknown command input {target!r}")
                    elif inputs[target].get("type") in ("select-one", "select-many") or inputs[target].get("select-values"):
                        out.append(f"{p}: input {i['name']!r} provides values for command input {target!r}, "
                                   "which is a select type")
                mount = i.get("provides-files-for-command-mount")
                if mount and mount not in mounts:
                    out.append(f"{p}: input {i['name']!r} provides files for unknown mount {mount!r}")
                if i.get("via-setup-command") and not mount:
                    out.append(f"{p}: input {i['name']!r} sets via-setup-command but provides files for no mount")
        handlers: list[str] = []
        handled: set[str] = set()
        for n, h in enumerate(w.get("output-handlers", [])):
            p = f"{wp}/output-handlers/{n}"
            if h["accepts-command-output"] not in outputs:
                out.append(f"{p}: output handler {h['name']!r} refers to unknown command output "
                           f"{h['accepts-command-output']!r} (known: {', '.join(outputs) or 'none'})")
            handled.add(h["accepts-command-output"])
            target = h["as-a-child-of"]
            if target not in known and target not in handlers:
                out.append(f"{p}: output handler {h['name']!r} has as-a-child-of {target!r}, not a known wrapper "
                           f"input or earlier output handler (inputs: {', '.join(known) or 'none'})")
            if target in multiple:
                out.append(f"{p}: output handler {h['name']!r} hangs on {target!r}, which allows multiple values")
            prop = known.get(target, {}).get("derived-from-xnat-object-property")
            if prop is not None and prop != "uri":
                out.append(f"{p}: output handler {h['name']!r} hangs on {target!r}, whose value is its {prop!r} "
                           "(a uri is needed to upload)")
            if h["name"] in handlers:
                out.append(f"{p}: output handler name {h['name']!r} is not unique")
            handlers.append(h["name"])
        for name in outputs:
            if name not in handled:
                out.append(f"{wp}: command output {name!r} is not handled by any output handler of wrapper "
                           f"{w['name']!r}")
    out += _unprovided_keys(c, keys)
    return out


def templated(c: dict):
    """(JSON pointer, text) of every string the Container Service resolves replacement keys in."""
    for field in ("command-line", "working-directory", "container-name"):
        if c.get(field):
            yield f"/{field}", c[field]
    for field in ("environment-variables", "ports", "container-labels"):
        for k, v in (c.get(field) or {}).items():
            yield f"/{field}/{k}", k
            yield f"/{field}/{k}", v
    for n, m in enumerate(c.get("mounts", [])):
        yield f"/mounts/{n}/path", m["path"]
    for n, o in enumerate(c.get("outputs", [])):
        if o.get("path"):
            yield f"/outputs/{n}/path", o["path"]
    for w_n, w in enumerate(c.get("xnat", [])):
        for n, h in enumerate(w.get("output-handlers", [])):
            for field in ("label", "format", "description", "content"):
                if h.get(field):
                    yield f"/xnat/{w_n}/output-handlers/{n}/{field}", h[field]
            for t_n, tag in enumerate(h.get("tags") or []):
                yield f"/xnat/{w_n}/output-handlers/{n}/tags/{t_n}", tag


def _unprovided_keys(c: dict, keys: set[str]) -> list[str]:
    out = []
    for pointer, text in templated(c):
        for key in KEY.findall(text):
            if key not in keys:
                out.append(f"{pointer}: replacement key {key} is provided by no input "
                           f"(inputs provide: {', '.join(sorted(keys)) or 'none'})")
    return out
