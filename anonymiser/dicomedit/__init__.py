"""DicomEdit 6 interpreter: the language XNAT sites write anonymisation scripts in.

>>> script = load_script('version "6.6"\\n(0010,0010) := subject')
>>> changes = script.apply(ds, ScriptContext(variables={"subject": "S01"}))

Layers: ``grammar.lark`` (LALR) -> :mod:`.parser` (lark tree to :mod:`.nodes`) ->
:mod:`.checks` (load-time checks) -> :mod:`.evaluator` (one handler per statement type);
functions live in :mod:`.functions`. A script is data: no file, network or shell access.
"""
from .model import Change, Changes, ScriptContext
from .script import Script, ScriptChain, default_site_script, load_script, load_scripts

__all__ = ["Change", "Changes", "Script", "ScriptChain", "ScriptContext", "default_site_script",
           "load_script", "load_scripts"]
