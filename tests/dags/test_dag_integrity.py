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


def kit_rule_problems(dagbag) -> list:
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
    return problems


def test_kit_rules(dagbag):
    problems = kit_rule_problems(dagbag)
    assert not problems, "\n".join(problems)


# Each rule, and each check above, can fail: one DAG file that breaks exactly it, and the message it must give.
GOOD = dict(tags='["kit"]', doc='"documented"', catchup="False", start="pendulum.datetime(2026, 1, 1, tz='UTC')",
            task="EmptyOperator(task_id='t')")
BAD_DAGS = {
    "no_tags": (dict(GOOD, tags="[]"), "bad: no tags"),
    "no_doc": (dict(GOOD, doc='""'), "bad: no doc_md"),
    "catchup": (dict(GOOD, catchup="True"), "bad: catchup=True"),
    "no_start_date": (dict(GOOD, start="None"), "bad: no start_date"),
    "email_without_address": (dict(GOOD, task="EmptyOperator(task_id='t', email_on_failure=True)"),
                              "bad.t: email_on_failure without an address"),
}


def bad_dag_bag(tmp_path, fields: dict):
    (tmp_path / "bad.py").write_text(
        "import pendulum\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        f"with DAG('bad', schedule=None, tags={fields['tags']}, doc_md={fields['doc']}, catchup={fields['catchup']},\n"
        f"         start_date={fields['start']}):\n"
        f"    {fields['task']}\n")
    return DagBag(dag_folder=str(tmp_path))


@pytest.mark.parametrize("case", sorted(BAD_DAGS))
def test_each_rule_catches_the_dag_that_breaks_it(tmp_path, case):
    fields, message = BAD_DAGS[case]
    bag = bad_dag_bag(tmp_path, fields)
    assert bag.import_errors == {} and "bad" in bag.dags, bag.import_errors
    problems = kit_rule_problems(bag)
    assert len(problems) == 1 and problems[0].startswith(message), problems


def test_control_the_good_fields_break_no_rule(tmp_path):
    bag = bad_dag_bag(tmp_path, GOOD)
    assert "bad" in bag.dags and kit_rule_problems(bag) == []


def test_an_import_error_is_caught(tmp_path):
    # DagBag reads only files that mention "airflow" and "dag" (safe mode): this one does, then fails to import.
    (tmp_path / "broken.py").write_text("from airflow.sdk import DAG\nimport no_such_module_anywhere\n")
    assert DagBag(dag_folder=str(tmp_path)).import_errors, "an unimportable DAG file gave no import error"


def test_a_cycle_is_caught(tmp_path):
    (tmp_path / "cycle.py").write_text(
        "import pendulum\n"
        "from airflow.sdk import DAG\n"
        "from airflow.providers.standard.operators.empty import EmptyOperator\n"
        "with DAG('cycle', schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz='UTC')):\n"
        "    a = EmptyOperator(task_id='a')\n"
        "    b = EmptyOperator(task_id='b')\n"
        "    a >> b >> a\n")
    bag = DagBag(dag_folder=str(tmp_path))
    assert bag.import_errors or any(
        len(dag.tasks) and _has_cycle(dag) for dag in bag.dags.values()), "a cyclic DAG passed"


def _has_cycle(dag) -> bool:
    try:
        dag.topological_sort()
    except Exception:  # noqa: BLE001 - Airflow raises its own cycle error
        return True
    return False
