"""Where things live: the repository, and the cache outside it."""
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
CACHE = Path(os.environ.get("AGK_CACHE", Path.home() / ".cache" / "airflow-gcp-kit"))
WHEELHOUSE = CACHE / "wheelhouse"
AIRFLOW_LOCK = REPO / "requirements" / "airflow-lock.txt"
TESTBED_LOCK = REPO / "requirements" / "testbed-wheels.txt"
SECRETS_ROOT = Path(os.environ.get("AGK_SECRETS_ROOT", Path.home() / ".config" / "airflow-gcp-kit"))
