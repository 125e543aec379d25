"""The import rules of `.importlinter` (run by `make lint`) hold, and catch a forbidden import.

The second test copies `offchain/` into a temporary directory, adds one import the house rule
forbids (the engine core reaching into the API) and shows `lint-imports` failing on it; the real
tree is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "offchain", tmp_path / "offchain", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_tree_keeps_every_import_contract(tmp_path):
    done = _lint(_copy_tree(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_core_module_importing_the_api_breaks_the_house_rule(tmp_path):
    tree = _copy_tree(tmp_path)
    fees = tree / "offchain" / "core" / "fees.py"
    fees.write_text(fees.read_text() + "\nimport offchain.api.app  # deliberately bad\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "core imports no adapter, no program and nothing that does I/O BROKEN" in done.stdout


def test_chain_importing_the_api_is_refused(tmp_path):
    tree = _copy_tree(tmp_path)
    state = tree / "offchain" / "chain" / "state.py"
    state.write_text(state.read_text() + "\nfrom offchain.api import signing  # deliberately bad\n")
    done = _lint(tree)
    assert done.returncode != 0
    assert "chain does not import api BROKEN" in done.stdout
