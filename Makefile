# airflow-gcp-kit: the two commands a newcomer needs, and the pieces behind them.
#   make demo   a local multi-host Airflow 3 Celery cluster in Docker "VMs", with a DAG run on both workers
#   make test   everything CI runs (.ci/run calls exactly this)
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c
export PYTHONDONTWRITEBYTECODE := 1

VENV = $(shell bash scripts/bootstrap.sh | tail -n 1)

.PHONY: demo demo-down admin-password flower-password test lint unit terraform molecule deploy-tests fault-tests bench

demo:
	venv="$(VENV)"; "$$venv/bin/python" scripts/demo.py

demo-down:
	venv="$(VENV)"; "$$venv/bin/python" scripts/demo.py --down

admin-password:
	@cat "$${HOME}/.config/airflow-gcp-kit/$${AGK_CLUSTER_NAME:-local}/admin_password"; echo

flower-password:
	@cat "$${HOME}/.config/airflow-gcp-kit/$${AGK_CLUSTER_NAME:-local}/flower_password"; echo

test:
	bash scripts/test.sh

lint:
	bash scripts/test.sh lint

unit:
	bash scripts/test.sh unit

terraform:
	bash scripts/terraform-checks.sh

molecule:
	bash scripts/test.sh molecule

deploy-tests:
	bash scripts/test.sh deploy

fault-tests:
	bash scripts/test.sh faults

bench:
	venv="$(VENV)"; "$$venv/bin/python" bench/run.py
