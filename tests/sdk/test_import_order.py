"""Every SDK module imports first in a fresh interpreter: no import cycle hides behind another
module having been imported earlier (pytest imports them in a different order)."""

import pkgutil
import subprocess
import sys

import pytest

import idfuse_sdk

MODULES = sorted(info.name for info in pkgutil.walk_packages(idfuse_sdk.__path__, "idfuse_sdk."))


@pytest.mark.parametrize("module", MODULES)
def test_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
