"""Where things live: the checkout kitlib works on, and the cache outside it.

kitlib is installed (not editable) into the control venv, which every checkout on the machine shares, so the
checkout is not where kitlib's files are: it is the nearest folder above the working directory that holds
ansible/site.yml and scripts/lib/kit.sh (every kit script runs inside its checkout), else $AGK_REPO.
"""
import os
from pathlib import Path


def find_repo(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "ansible" / "site.yml").is_file() and (folder / "scripts" / "lib" / "kit.sh").is_file():
            return folder
    if os.environ.get("AGK_REPO"):
        return Path(os.environ["AGK_REPO"]).resolve()
    raise RuntimeError(f"kitlib: {here} is not inside an airflow-gcp-kit checkout (and AGK_REPO is not set)")


REPO = find_repo()
ANSIBLE_DIR = REPO / "ansible"
LOCAL_INVENTORY = ANSIBLE_DIR / "inventories" / "local" / "hosts.yml"
CACHE = Path(os.environ.get("AGK_CACHE", Path.home() / ".cache" / "airflow-gcp-kit"))
WHEELHOUSE = CACHE / "wheelhouse"
AIRFLOW_LOCK = REPO / "requirements" / "airflow-lock.txt"
TESTBED_LOCK = REPO / "requirements" / "testbed-wheels.txt"
INSTALLER_LOCK = REPO / "requirements" / "installer.txt"
SECRETS_ROOT = Path(os.environ.get("AGK_SECRETS_ROOT", Path.home() / ".config" / "airflow-gcp-kit"))
