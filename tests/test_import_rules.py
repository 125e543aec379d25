"""The import rules of `.importlinter` (run by `make lint`) hold, and catch a forbidden import.

The other tests copy `offchain/` into a temporary directory, add one import a rule forbids (the
engine core reaching into the API, a module importing the engine or another module, an import
cycle) and show `lint-imports` or `scripts/import_cycles.py` (both run by `make lint`) failing on it;
the real tree is never touched.
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


def _cycles(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "import_cycles.py"), "offchain"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": str(LINT_IMPORTS.parent)},
        capture_output=True,
        text=True,
        check=False,
    )


def _append(tree: Path, module: str, line: str) -> None:
    path = tree / "offchain" / Path(*module.split(".")[1:]).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{line}  # deliberately bad\n")


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
    _append(tree, "offchain.core.model.fees", "import offchain.api.app")
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


def test_the_tree_has_no_import_cycle():
    done = _cycles(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "import cycles: none new" in done.stdout
    assert "offchain.core" not in done.stdout  # the core has none, not even a known one


def test_an_import_cycle_fails_the_lint(tmp_path):
    """units is imported by almost everything: making it import the engine closes many circles."""
    tree = _copy_tree(tmp_path)
    _append(tree, "offchain.core.units", "import offchain.core.engine")
    done = _cycles(tree)
    assert done.returncode != 0
    assert "import cycle" in done.stdout and "offchain.core.engine" in done.stdout
    assert "BROKEN" in done.stdout


def test_an_annotation_only_cycle_fails_the_lint_too(tmp_path):
    tree = _copy_tree(tmp_path)
    path = tree / "offchain" / "core" / "risk" / "liquidator.py"
    text = path.read_text().replace(
        "    from offchain.core.risk.state import RiskState\n",
        "    from offchain.core.risk.module import RiskModule  # deliberately bad\n"
        "    from offchain.core.risk.state import RiskState\n",
    )
    path.write_text(text)
    done = _cycles(tree)
    assert done.returncode != 0
    assert "offchain.core.risk.liquidator -> offchain.core.risk.module" in done.stdout


def test_a_module_importing_another_module_breaks_independence(tmp_path):
    tree = _copy_tree(tmp_path)
    _append(tree, "offchain.core.treasury.module", "import offchain.core.risk.module")
    done = _lint(tree)
    assert done.returncode != 0
    broken = [line for line in done.stdout.splitlines() if line.endswith("BROKEN")]
    assert any("never import each other (the composition root wires them)" in line for line in broken), (
        done.stdout
    )


def test_a_module_importing_the_engine_breaks_the_layers(tmp_path):
    tree = _copy_tree(tmp_path)
    _append(tree, "offchain.core.breaker.module", "import offchain.core.engine")
    done = _lint(tree)
    assert done.returncode != 0
    assert (
        "core layers: composition root, engine, modules, matching, ports, messages, model, vocabulary BROKEN"
        in done.stdout
    )
    assert "no module imports the engine" in done.stdout and "BROKEN" in done.stdout
