"""Where the project keeps the files other programs read (deployments, build manifest)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"
BUILD_MANIFEST = PROJECT_ROOT / ".build" / "__local__.json"
