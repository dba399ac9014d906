"""``python -m xnatemu --host H --port P``: an emulated XNAT; admin from XNATEMU_USER / XNATEMU_PASS."""
from __future__ import annotations

import argparse
import os
import signal
import sys

from .server import Emulator


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xnatemu", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--project", action="append", default=[], help="Create this project at start.")
    args = parser.parse_args(argv)
    user, password = os.environ.get("XNATEMU_USER"), os.environ.get("XNATEMU_PASS")
    if not user or not password:
        parser.error("set XNATEMU_USER and XNATEMU_PASS (the admin account)")
    emu = Emulator(user, password, args.host, args.port)
    for project in args.project:
        emu.archive.create_project(project)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"XNAT emulator on {emu.url}", flush=True)
    try:
        emu.httpd.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        emu.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
