"""Regenerate ``verifier/data/common_words.txt``: the most frequent English words, lower case.

A device or institution value that is an ordinary word (a station called ``ACTIONS`` or
``CONSOLE``) identifies nothing on its own, and an ordinary word turns up in any report or
description: the verifier does not search for such values as identifiers (the profile check still
judges the element that held them). Names of people are never filtered by this list.

Source: PyPI ``wordfreq`` (Robyn Speer, MIT licence; data CC-BY-SA 4.0), ``top_n_list("en", N)``,
alphabetic words of 3+ letters. Needed only to regenerate (not a runtime dependency):
``pip install wordfreq && python tools/generate_common_words.py``.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "verifier" / "data" / "common_words.txt"
TOP = 10000


def main() -> None:
    from wordfreq import top_n_list

    words = sorted({w for w in top_n_list("en", TOP) if w.isascii() and w.isalpha() and len(w) >= 3})
    version = importlib.metadata.version("wordfreq")
    header = (f"# The {TOP} most frequent English words (alphabetic, 3+ letters: {len(words)}), "
              f"from PyPI wordfreq {version} top_n_list('en'); tools/generate_common_words.py\n")
    OUT.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} words -> {OUT}")


if __name__ == "__main__":
    main()
