"""Every DAG file imports cleanly, no DAG has a cycle, and every DAG follows the kit's rules.

Cloud Build runs these before any deploy (see cloudbuild.yaml); a failure stops the build.
"""
import importlib.util
import sys

import pytest
from airflow.models.dagbag import DagBag

from conftest import DAGS_DIR

DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag():
    # Example DAGs stay out through AIRFLOW__CORE__LOAD_EXAMPLES=False (conftest); 3.x DagBag has no include_examples.
    return DagBag(dag_folder=str(DAGS_DIR))


def test_there_are_dags():
    assert DAG_FILES, f"no DAG files in {DAGS_DIR}"


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}, "\n\n".join(f"{path}:\n{err}" for path, err in dagbag.import_errors.items())


@pytest.mark.parametrize("path", DAG_FILES, ids=[p.name for p in DAG_FILES])
def test_each_file_imports_and_defines_a_dag(path, dagbag):
    spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    assert any(dag.fileloc == str(path) for dag in dagbag.dags.values()), f"{path.name} defines no DAG"


def test_no_cycles(dagbag):
    for dag_id, dag in dagbag.dags.items():
        # topological_sort raises on a cycle; every task must appear exactly once
        order = dag.topological_sort()
        assert len(order) == len(dag.tasks), dag_id
        for task in dag.tasks:
            assert task.task_id not in {t.task_id for t in task.get_flat_relatives(upstream=False)}, \
                f"{dag_id}: {task.task_id} is its own descendant"


def test_kit_rules(dagbag):
    """The kit's rules: documented, tagged, no accidental backfill, a fixed start date, no email spam."""
    problems = []
    for dag_id, dag in dagbag.dags.items():
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not (dag.doc_md or "").strip():
            problems.append(f"{dag_id}: no doc_md")
        if dag.catchup:
            problems.append(f"{dag_id}: catchup=True (set it explicitly to False, or backfill on purpose)")
        if dag.start_date is None:
            problems.append(f"{dag_id}: no start_date")
        for task in dag.tasks:
            # Airflow 3 turns email_on_failure on for every task by default (and sends nothing without an
            # address); the rule is about authors who switch it on explicitly and forget the address.
            explicit = {**(dag.default_args or {}), **getattr(task, "_BaseOperator__init_kwargs", {})}
            if explicit.get("email_on_failure") and not getattr(task, "email", None):
                problems.append(f"{dag_id}.{task.task_id}: email_on_failure without an address")
    assert not problems, "\n".join(problems)
