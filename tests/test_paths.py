"""The deployments folder has one source, and it honours BREAKWATER_DEPLOYMENTS_DIR at call time."""

from offchain.paths import PROJECT_ROOT, deployment_file, deployments_dir
from offchain.settings import DaemonSettings


def test_deployment_file_defaults_to_the_project_folder(monkeypatch):
    monkeypatch.delenv("BREAKWATER_DEPLOYMENTS_DIR", raising=False)
    assert deployment_file(31337) == PROJECT_ROOT / "deployments" / "31337.json"


def test_environment_redirects_every_reader(monkeypatch, tmp_path):
    monkeypatch.setenv("BREAKWATER_DEPLOYMENTS_DIR", str(tmp_path))
    assert deployments_dir() == tmp_path
    assert deployment_file(1) == tmp_path / "1.json"
    assert DaemonSettings().deployment_path(1) == tmp_path / "1.json"
