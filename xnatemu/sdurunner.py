"""The emulator's default container engine for SDU's commands: ``sdu-xnat`` as a local process.

The Container Service (:mod:`xnatemu.containerservice`) resolves a launch from the images' own
command JSON (``containers/commands``, :func:`sdu_commands`) and stages its mounts as host folders;
this runner runs the resolved command line — ``sdu-xnat <step>``, the image's entry point — with
this interpreter, the container's resolved environment (inputs, command secrets, ``XNAT_HOST``,
``XNAT_USER``/``XNAT_PASS``, ``XNAT_WORKFLOW_ID``), and every path option of the step whose default
is a path inside the container (``--session /input``, ``--out /output/report``, ``--work /scratch``,
``--relabelled /output/relabelled``) pointed at the host folder mounted there. No podman: the
plugin's UI tests stay fast; :class:`xnatemu.launcher.Launcher` runs the real image for the
image tests. What the image sets (``HOME``, ``SDU_SITE_DIR`` on its tmpfs; no mounted secrets
folder) is given a per-run scratch folder here.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ENTRY_POINT = "sdu-xnat"
COMMANDS = Path(__file__).resolve().parents[1] / "containers" / "commands"
TIMEOUT = 900
#: What a process needs from the host (the image has its own PATH and locale; nothing else leaks in).
HOST_ENV = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")


def sdu_commands() -> list[dict]:
    """The command JSON the images carry (``containers/commands/*.json``, one source of truth)."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(COMMANDS.glob("sdu-*.json"))]


def run(container) -> tuple[int, str]:
    """Run ``container`` (a :class:`~xnatemu.containerservice.ContainerRun`): (exit code, log)."""
    argv = shlex.split(container.command_line)
    if len(argv) < 2 or argv[0] != ENTRY_POINT:
        return 127, f"not an {ENTRY_POINT} command line"
    args = [*argv[1:], *mapped_options(argv[1], container)]
    tmp = container.folder
    env = {k: os.environ[k] for k in HOST_ENV if k in os.environ}
    env.update({"HOME": str(tmp), "TMPDIR": str(tmp), "SDU_SITE_DIR": str(tmp / "sdu-site"),
                "SDU_SECRETS_DIR": str(tmp / "no-secrets"), **container.environment})
    cwd = container.host_path(container.working_directory) if container.working_directory else None
    proc = subprocess.run([sys.executable, "-m", "sdu.xnat.cli", *args], env=env, cwd=cwd or tmp,
                          capture_output=True, text=True, timeout=TIMEOUT)
    return proc.returncode, proc.stdout + proc.stderr


def mapped_options(step: str, container) -> list[str]:
    """``--option HOST`` for each path option of ``sdu-xnat STEP`` whose default lies in a mount."""
    import click

    from sdu.xnat.cli import cli

    command = cli.commands.get(step)
    if command is None:
        return []
    out = []
    for param in command.params:
        if isinstance(param, click.Option) and isinstance(param.type, click.Path) \
                and isinstance(param.default, str) and param.default.startswith("/"):
            host = container.host_path(param.default)
            if host is not None:
                out += [max(param.opts, key=len), str(host)]
    return out
