"""`make serve` / `make test` recover from a .venv made by a wrong Python."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parent.parent / "Makefile"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("python", ["#!/bin/sh\nexit 1\n", None], ids=["too-old", "gone"])
def test_a_venv_of_a_wrong_python_is_rebuilt(tmp_path, python):
    shutil.copy(MAKEFILE, tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    if python is not None:  # a python that is not 3.11+ (it fails the version check)
        (venv / "bin" / "python").write_text(python)
        (venv / "bin" / "python").chmod(0o755)
    else:  # a link to a Python that was removed since
        (venv / "bin" / "python").symlink_to(tmp_path / "no-such-python")
    (venv / ".installed").touch()
    result = subprocess.run(["make", "-n", "test"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "was made by a Python older than 3.11 (or one that is gone): rebuilding it" in result.stdout
    assert not venv.exists()
    assert " -m venv .venv" in result.stdout and "pip install" in result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_good_venv_is_kept(tmp_path):
    import sys

    shutil.copy(MAKEFILE, tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").write_text("")
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    (venv / ".installed").touch()
    result = subprocess.run(["make", "-n", "test"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and venv.exists() and "rebuilding" not in result.stdout
    assert " -m venv" not in result.stdout
