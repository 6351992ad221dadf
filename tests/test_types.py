"""The package type-checks clean under mypy, as configured in pyproject.toml ([tool.mypy]; CONTRIBUTING.md, "Types")."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_mypy_finds_no_error_in_the_package():
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, f"mypy (run it: .venv/bin/mypy):\n{run.stdout}{run.stderr}"
