"""What a step knows about its launch: the launching user's XNAT connection, the session's XNAT ID
and project (derived inputs the Container Service resolves from the session it mounts:
``SDU_XNAT_SESSION_ID``, ``SDU_XNAT_PROJECT``), and the plugin's settings for that project.

Outside the Container Service (no ``XNAT_HOST``/``XNAT_USER``/``XNAT_PASS``) there is no
connection: settings come from the environment and mounted files only, and the steps that need
XNAT (approve, upload) refuse.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import ConfigError, ProtocolError
from . import access, settings
from .rest import LaunchingUser

#: The session's custom field the plugin records the chosen trial in.
TRIAL_FIELD = "sdu_trial"


@dataclass
class Launch:
    xnat: LaunchingUser | None
    session_id: str | None
    project: str | None
    settings: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, *, need_xnat: bool = False) -> "Launch":
        have = all(os.environ.get(n) for n in ("XNAT_HOST", "XNAT_USER", "XNAT_PASS"))
        if not have and need_xnat:
            LaunchingUser.from_env()  # raises the ConfigError naming the variables
        xnat = LaunchingUser.from_env(settings.setting("SDU_CA_BUNDLE") or True) if have else None
        project = os.environ.get("SDU_XNAT_PROJECT") or None
        launch = cls(xnat, os.environ.get("SDU_XNAT_SESSION_ID") or None, project)
        if xnat is not None:
            launch.settings = settings.from_xnat(xnat, project)
        return launch

    def setting(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        return settings.setting(name, default, required=required, xnat=self.settings)

    def offered_trials(self) -> list[str]:
        trials = self.settings.get("trials") or []
        if isinstance(trials, str):
            trials = [t.strip() for t in trials.split(",")]
        return [t for t in trials if isinstance(t, str) and t]

    def recorded_trial(self) -> str | None:
        """The session's ``sdu_trial`` field (the trial chosen on the session page), if any."""
        if self.xnat is None or not self.session_id:
            return None
        doc = self.xnat.get_json(f"/data/experiments/{self.session_id}", {"format": "json"}, missing_ok=True) or {}
        for item in (doc.get("items") or [])[:1]:
            for child in item.get("children") or []:
                if child.get("field") != "fields/field":
                    continue
                for f in child.get("items") or []:
                    data = f.get("data_fields") or {}
                    if str(data.get("name", "")).lower() == TRIAL_FIELD and data.get("field"):
                        return str(data["field"])
        return None

    def trial(self, given: str | None, *, required: bool = True) -> str | None:
        """The launch's trial, else the one recorded on the session, else the project's only
        offered trial; refused when the project offers a list without it."""
        offered = self.offered_trials()
        trial = (given or "").strip() or self.recorded_trial() or (offered[0] if len(offered) == 1 else None)
        if not trial:
            if required:
                raise ConfigError("no trial: give one at launch, or choose it on the session page")
            return None
        if offered and trial not in offered:
            raise ProtocolError("the trial is not among the trials this project offers (XNAT's SDU settings)")
        return trial

    def require_editor(self, username: str, step: str) -> str:
        """Owner, member or admin of the session's project (asked of XNAT), else ApprovalError."""
        if self.xnat is None:
            LaunchingUser.from_env()
        if not self.project:
            raise ConfigError("SDU_XNAT_PROJECT is not set: the command's session-project input is missing")
        return access.require_editor(self.xnat, self.project, username, step)
