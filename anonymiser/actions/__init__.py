"""Element actions of PS3.15 Table E.1-1, one small module each.

Every action has one shape: ``action(ds, tag, vr, ctx)`` edits one element of ``ds`` in place,
and ``action.describe()`` says what it does. The engine picks the action from the table.
"""
from .clean import Clean
from .dummy import Dummy
from .empty import Empty
from .keep import Keep
from .private import Private
from .remove import Remove
from .uids import ReplaceUID

__all__ = ["Clean", "Dummy", "Empty", "Keep", "Private", "Remove", "ReplaceUID"]
