"""The README's helper commands work as written, outside scripts/run.sh."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_manage_script_runs_manage_py_without_any_django_variable_set() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "VIDEOROOM_")) and key != "REDIS_URL"
    }
    result = subprocess.run(
        ["bash", "scripts/manage.sh", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
