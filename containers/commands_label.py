"""Print the org.nrg.commands label: every containers/commands/*.json, checked, as one JSON list.

Run by containers/build (the commands are their own source of truth); fails naming each problem.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from xnatemu.commands import CommandError, check  # noqa: E402


def main() -> int:
    commands = []
    for path in sorted((HERE / "commands").glob("*.json")):
        try:
            commands.append(check(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, CommandError) as exc:
            print(f"{path.name}: {exc}", file=sys.stderr)
            return 1
    print(json.dumps(commands, separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
