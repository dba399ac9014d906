"""An emulator of the part of XNAT's REST API SDU uses (see :mod:`.server` for the paths and
where their shapes come from). ``python -m xnatemu --host H --port P`` runs one; tests start
:class:`Emulator` on a free loopback port."""
from .server import Emulator, XNAT_VERSION

__all__ = ["Emulator", "XNAT_VERSION"]
