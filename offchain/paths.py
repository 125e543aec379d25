"""Where the project keeps the files other programs read (deployments, build manifest).

The one source for the deployments folder: every program (deploy script, daemon, console extras,
`por verify`, tests) asks `deployment_file(chain_id)`, so `BREAKWATER_DEPLOYMENTS_DIR` is honoured
everywhere. Stdlib only: the ape scripts and the console import it before anything else.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILD_MANIFEST = PROJECT_ROOT / ".build" / "__local__.json"
DEPLOYMENTS_ENV = "BREAKWATER_DEPLOYMENTS_DIR"


def deployments_dir() -> Path:
    """The deployments folder: `$BREAKWATER_DEPLOYMENTS_DIR`, else `deployments/` in the project.

    Read at call time, not import time, so tests and parallel devnets can point one process at
    their own folder.
    """
    return Path(os.environ.get(DEPLOYMENTS_ENV) or PROJECT_ROOT / "deployments")


def deployment_file(chain_id: int) -> Path:
    """The deployment file of `chain_id`: `<deployments_dir()>/<chain_id>.json`."""
    return deployments_dir() / f"{chain_id}.json"
