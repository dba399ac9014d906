"""Study completion: a study with no new instance for a quiet period is complete.

Completion is announced by a log line (keys and counts only), a JSON event file
``STORE/.events/<time>-<study key>.json`` and, optionally, a hook command run *without a
shell*, whose arguments may use ``{study_dir}`` and ``{trial}``; no DICOM value ever reaches
the command line.
"""
from __future__ import annotations

import logging
import shlex
import subprocess
import threading
from dataclasses import dataclass

from sdu.errors import ConfigError

from .store import Store

PLACEHOLDERS = ("{study_dir}", "{trial}")


@dataclass(frozen=True)
class CompletionOptions:
    quiet_seconds: float = 60.0
    on_complete: str | None = None  # command template, split like a shell would (no shell runs it)
    trial: str | None = None
    hook_timeout: float = 3600.0


def hook_argv(template: str, study_dir: str, trial: str | None) -> list[str]:
    """Split ``template`` and substitute the placeholders argument by argument."""
    try:
        argv = shlex.split(template)
    except ValueError as exc:
        raise ConfigError(f"--on-complete cannot be split: {exc}") from None
    if not argv:
        raise ConfigError("--on-complete is empty")
    if "{trial}" in template and not trial:
        raise ConfigError("--on-complete uses {trial} but no --trial was given")
    return [a.replace("{study_dir}", study_dir).replace("{trial}", trial or "") for a in argv]


def complete_quiet_studies(store: Store, options: CompletionOptions, logger: logging.Logger) -> list[dict]:
    """Mark every quiet study complete, announce it, run the hook; return the events written."""
    events = []
    for study_key in store.due_for_completion(options.quiet_seconds):
        study = store.mark_complete(study_key, options.quiet_seconds)
        if study is None:
            continue
        study_dir = store.study_dir(study["patient_key"], study_key)
        series = [{"series_key": s["series_key"], "modality": s["modality"], "instances": s["instances"]}
                  for s in study["series"]]
        payload = {"patient_key": study["patient_key"], "study_dir": str(study_dir),
                   "instances": study["instances"], "series": series, "trial": options.trial}
        event_path = store.write_event("complete", study_key, payload)
        counts = ", ".join(f"{s['modality'] or '?'}:{s['instances']}" for s in series)
        logger.info("study %s complete: %d instances in %d series (%s)", study_key, study["instances"],
                    len(series), counts)
        if options.on_complete:
            payload["hook_exit"] = _run_hook(options, str(study_dir), study_key, logger)
        events.append({"event_file": str(event_path), "study_key": study_key, **payload})
    return events


def _run_hook(options: CompletionOptions, study_dir: str, study_key: str, logger: logging.Logger) -> int | None:
    argv = hook_argv(options.on_complete, study_dir, options.trial)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=options.hook_timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.error("study %s: completion hook failed to run (%s)", study_key, type(exc).__name__)
        return None
    log = logger.info if proc.returncode == 0 else logger.warning
    log("study %s: completion hook exited %d", study_key, proc.returncode)
    return proc.returncode


class CompletionMonitor:
    """A background thread checking for quiet studies every ``interval`` seconds."""

    def __init__(self, store: Store, options: CompletionOptions, logger: logging.Logger):
        self.store, self.options, self.logger = store, options, logger
        self.interval = max(0.2, min(5.0, options.quiet_seconds / 4))
        self.events: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sdu-completion", daemon=True)

    def start(self) -> "CompletionMonitor":
        if self.options.on_complete:  # fail at start, not at the first completion
            hook_argv(self.options.on_complete, "x", self.options.trial)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.events.extend(complete_quiet_studies(self.store, self.options, self.logger))
            except Exception as exc:  # keep monitoring: a failure here must not stop intake
                self.logger.error("completion check failed (%s)", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
