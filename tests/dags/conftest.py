"""DAG tests run in a venv with exactly the VMs' Airflow lock (scripts/airflow-venv.sh), against a
throwaway AIRFLOW_HOME: importing DAGs needs no database and no running cluster."""
import os
import tempfile
from pathlib import Path

DAGS_DIR = Path(os.environ.get("AGK_DAGS_DIR", Path(__file__).resolve().parents[2] / "dags"))

_home = tempfile.mkdtemp(prefix="agk-dag-tests-")
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_DIR))
# As on a cluster with Edge workers (roles/airflow_install: airflow_executor), so that DAGs with Edge tasks are
# defined and checked too.
os.environ.setdefault("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor,airflow.providers.edge3.executors.EdgeExecutor")
