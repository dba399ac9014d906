"""Fixtures for the DicomEdit interpreter tests: real files, one helper to run a script."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file

from anonymiser.dicomedit import ScriptContext, load_script

CONTEXT = ScriptContext(variables={"project": "TRIAL1", "subject": "SUBJ01", "session": "SUBJ01_RT",
                                   "modalityLabel": "CT"})


@pytest.fixture
def ct_small():
    """pydicom's CT_small.dcm (GE private blocks, Explicit VR Little Endian)."""
    return pydicom.dcmread(get_testdata_file("CT_small.dcm"))


@pytest.fixture
def rtstruct(small_study):
    return pydicom.dcmread(small_study.rtstruct)


@pytest.fixture
def run():
    """run(script_text, ds, **variables) -> changes (the script is parsed and applied)."""
    def _run(text, ds, context=None, **variables):
        ctx = context or (ScriptContext(variables={**CONTEXT.variables, **variables}) if variables else CONTEXT)
        return load_script('version "6.6"\n' + text, "test.das").apply(ds, ctx)
    return _run
