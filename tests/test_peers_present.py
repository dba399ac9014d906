"""In CI the real peers must be there: the tests that use them skip without them, and a
silently skipped peer test is a test that ran nothing. `./run-tests` installs them."""
import os
import shutil

import pytest


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only enforced in CI (CI=true)")
@pytest.mark.parametrize("program", ["storescu", "dcmdump", "dciodvfy", "Orthanc", "openssl", "gradle", "chromium"])
def test_real_peer_installed(program):
    assert shutil.which(program) or os.path.exists(f"/usr/sbin/{program}"), f"{program} missing: run ./run-tests"
