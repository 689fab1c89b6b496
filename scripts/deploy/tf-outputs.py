#!/usr/bin/env python3
"""Stands in for `terraform output -raw NAME` where there is no Terraform state, as in Cloud Build.

ansible/inventories/gcp reads the cluster's values with `$AIRFLOW_GCP_TERRAFORM_BIN -chdir=DIR output
-no-color -raw NAME`. The Cloud Build trigger (terraform/cloudbuild.tf) carries those outputs as the JSON
substitution _TF_OUTPUTS; scripts/deploy/deploy.sh points AIRFLOW_GCP_TERRAFORM_BIN here and this prints
one value from $AGK_TF_OUTPUTS (a JSON object name -> value).
"""
import json
import os
import sys


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-chdir=") and a not in ("-no-color", "-raw")]
    if len(args) != 2 or args[0] != "output":
        print(f"usage: {sys.argv[0]} [-chdir=DIR] output [-no-color] -raw NAME", file=sys.stderr)
        return 2
    outputs = json.loads(os.environ.get("AGK_TF_OUTPUTS") or "{}")
    if args[1] not in outputs:
        print(f"output {args[1]!r} is not in AGK_TF_OUTPUTS", file=sys.stderr)
        return 1
    value = outputs[args[1]]
    sys.stdout.write(value if isinstance(value, str) else json.dumps(value))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
