"""Real `terraform plan` of each profile in terraform/examples/, on the real providers, with assertions on
`terraform show -json`, and the proof that no generated secret value is in any plan.

Run by scripts/terraform-checks.sh (stage `plans`) on its copy of the sources, already `init`-ed:
    python3 tests/terraform/test_plans.py --src SRC --out DIR
SRC holds terraform/ and the Ansible files it reads; DIR receives one <profile>.json per plan (checkov scans
them). Needs $TERRAFORM and $TF_CLI_CONFIG_FILE from scripts/terraform-toolchain.sh; plain Python 3.

No credentials: a fake GOOGLE_OAUTH_ACCESS_TOKEN and -refresh=false, so the google provider never calls an
API. The plans use a local backend (an override file in the copy) instead of the gcs one.

The secret proof: the random provider's ephemeral resources draw the values during the plan. With
TF_LOG_SDK_PROTO_DATA_DIR set, the providers' plugin SDK writes every RPC payload to that directory, which
is where the test reads the values that were drawn (OpenEphemeralResource responses) and checks that they
did reach the google provider (as write-only config), then that none of them is in the saved plan or its
JSON.
"""

from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import traceback
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "terraform" / "examples"
PROJECT = "acme-data-prod"
SPECS_FILE = ROOT / "ansible" / "roles" / "cluster_secrets" / "vars" / "main.yml"
AIRFLOW_BASE = ROOT / "ansible" / "roles" / "airflow_base" / "defaults" / "main.yml"
ALERT_RULES = ROOT / "terraform" / "modules" / "monitoring" / "alert_rules.yaml"

# One more plan: the standard profile with the Cloud Build DAG-test and redeploy triggers, and a soft delete window
# of the task-log bucket other than the default (the root's log_soft_delete_days must reach the bucket).
DEPLOY_TRIGGER = '{github_owner="acme", github_repo="airflow-dags", repo_url="git@github.com:acme/airflow-dags.git"}'
DEPLOY_SOFT_DELETE_DAYS = "30"


# --- a minimal MessagePack reader (Terraform's wire format for values) ---------------------------------
def unpack(data: bytes):
    def read(i: int):
        b = data[i]
        i += 1
        if b <= 0x7F:
            return b, i
        if 0x80 <= b <= 0x8F:
            return read_map(i, b & 0x0F)
        if 0x90 <= b <= 0x9F:
            return read_array(i, b & 0x0F)
        if 0xA0 <= b <= 0xBF:
            n = b & 0x1F
            return data[i:i + n].decode("utf-8", "replace"), i + n
        if b >= 0xE0:
            return b - 0x100, i
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b], i
        sizes = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h", 0xD2: ">i", 0xD3: ">q",
                 0xCA: ">f", 0xCB: ">d"}
        if b in sizes:
            fmt = sizes[b]
            n = struct.calcsize(fmt)
            return struct.unpack(fmt, data[i:i + n])[0], i + n
        if b in (0xD9, 0xDA, 0xDB, 0xC4, 0xC5, 0xC6):
            fmt = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I"}[b]
            n0 = struct.calcsize(fmt)
            n = struct.unpack(fmt, data[i:i + n0])[0]
            raw = data[i + n0:i + n0 + n]
            return (raw.decode("utf-8", "replace") if b >= 0xD9 else raw), i + n0 + n
        if b in (0xDC, 0xDD):
            fmt = ">H" if b == 0xDC else ">I"
            n0 = struct.calcsize(fmt)
            return read_array(i + n0, struct.unpack(fmt, data[i:i + n0])[0])
        if b in (0xDE, 0xDF):
            fmt = ">H" if b == 0xDE else ">I"
            n0 = struct.calcsize(fmt)
            return read_map(i + n0, struct.unpack(fmt, data[i:i + n0])[0])
        if b in (0xD4, 0xD5, 0xD6, 0xD7, 0xD8):  # fixext: cty's unknown value marker
            n = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}[b]
            return "<unknown>", i + 1 + n
        if b in (0xC7, 0xC8, 0xC9):
            fmt = {0xC7: ">B", 0xC8: ">H", 0xC9: ">I"}[b]
            n0 = struct.calcsize(fmt)
            n = struct.unpack(fmt, data[i:i + n0])[0]
            return "<unknown>", i + n0 + 1 + n
        raise ValueError(f"msgpack byte {b:#x} at {i - 1}")

    def read_array(i: int, n: int):
        out = []
        for _ in range(n):
            v, i = read(i)
            out.append(v)
        return out, i

    def read_map(i: int, n: int):
        out = {}
        for _ in range(n):
            k, i = read(i)
            v, i = read(i)
            out[k] = v
        return out, i

    return read(0)[0]


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# --- the plans --------------------------------------------------------------------------------------------
def run(cmd: list[str], cwd: pathlib.Path, env: dict[str, str]) -> str:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def plan(tf_dir: pathlib.Path, name: str, args: list[str], out: pathlib.Path) -> tuple[dict, bytes, list[pathlib.Path]]:
    terraform = os.environ["TERRAFORM"]
    proto_dir = pathlib.Path(tempfile.mkdtemp(prefix=f"proto-{name}-"))
    env = dict(os.environ, GOOGLE_OAUTH_ACCESS_TOKEN="fake-token-no-api-call", TF_LOG_SDK_PROTO_DATA_DIR=str(proto_dir))
    # -parallelism=1: the SDK names each payload file by a millisecond timestamp and the RPC, so two
    # concurrent RPCs of one kind would overwrite each other's file.
    plan_file = out / f"{name}.tfplan"
    run([terraform, "plan", "-refresh=false", "-input=false", "-no-color", "-lock=false", "-parallelism=1", f"-out={plan_file}",
         *args, f"-var=project_id={PROJECT}"], tf_dir, env)
    env.pop("TF_LOG_SDK_PROTO_DATA_DIR")
    shown = run([terraform, "show", "-json", str(plan_file)], tf_dir, env)
    (out / f"{name}.json").write_text(shown)
    raw = b"".join(zipfile.ZipFile(plan_file).read(n) for n in zipfile.ZipFile(plan_file).namelist())
    return json.loads(shown), raw, sorted(proto_dir.iterdir())


def spec_names() -> list[str]:
    return re.findall(r"^\s*-\s*\{name:\s*(\w+)", SPECS_FILE.read_text(), re.M)


def rule_names() -> list[str]:
    return re.findall(r"^  - name: (\w+)\s*$", ALERT_RULES.read_text(), re.M)


def profile_emails(path: pathlib.Path) -> list[str]:
    """monitoring.email_addresses of a profile (one line, as the profiles write it)."""
    m = re.search(r"^\s*email_addresses\s*=\s*\[([^\]]*)\]", path.read_text(), re.M)
    return re.findall(r'"([^"]+)"', m.group(1)) if m else []


def base_value(key: str) -> int:
    return int(re.search(rf"^{key}:\s*(\d+)\s*$", AIRFLOW_BASE.read_text(), re.M).group(1))


def profile_vars(path: pathlib.Path) -> dict[str, str]:
    return dict(re.findall(r'^(\w+)\s*=\s*"?([^"\n#]*?)"?\s*(?:#.*)?$', path.read_text(), re.M))


def after(rc: dict) -> dict:
    return rc["change"]["after"] or {}


def account_email(account_id: str) -> str:
    return f"{account_id}@{PROJECT}.iam.gserviceaccount.com"


def grants_of(changes: list[dict], member: str) -> list[tuple[str, str]]:
    """(resource type, role) of every IAM grant in the plan to member, sorted."""
    return sorted((rc["type"], after(rc)["role"]) for rc in changes if "_iam_" in rc["type"]
                  and member in [after(rc).get("member"), *(after(rc).get("members") or [])])


def check_plan(name: str, data: dict, tfvars: dict[str, str], deploy: bool, emails: list[str]) -> list[str]:
    """Assertions on one plan; returns a one-line summary."""
    changes = [rc for rc in data["resource_changes"] if rc["mode"] == "managed"]
    assert all(rc["change"]["actions"] == ["create"] for rc in changes), f"{name}: a fresh plan only creates"
    by_type = collections.Counter(rc["type"] for rc in changes)
    of = lambda t: [rc for rc in changes if rc["type"] == t]  # noqa: E731

    workers = int(tfvars.get("worker_count", "2"))
    edges = int(tfvars.get("edge_worker_count", "0"))
    instances = int(tfvars.get("airflow_worker_instances", str(base_value("airflow_worker_instances"))))
    n_secrets = len(spec_names())
    # The VM accounts: one per kind of VM the cluster has (an all-in-one cluster has no worker VM, no worker account).
    kinds = ["main"] + (["worker"] if workers else [])
    expected = {
        # With a trigger: the Cloud Build and Pub/Sub APIs.
        "google_project_service": 11 + (2 if deploy else 0),
        "google_compute_instance": 1 + workers + edges,
        # Four ingress rules and the worker VMs' egress deny to Cloud SQL (made with or without worker VMs: the
        # tag is the cluster's, an all-in-one VM does not carry it). With Edge workers: edge -> main on the API
        # port, and their egress allow (API port) and deny.
        "google_compute_firewall": 5 + (3 if edges else 0),
        # With a trigger: the DAG-test account and the deploy account.
        "google_service_account": len(kinds) + (1 if edges else 0) + (2 if deploy else 0),
        "google_storage_bucket_iam_member": len(kinds) + (1 if edges else 0),
        "google_secret_manager_secret": n_secrets + (1 if deploy else 0),
        "google_secret_manager_secret_version": n_secrets,
        "google_sql_database_instance": 1,
        "google_sql_user": 1,
        "google_storage_bucket": 1,
        # Two per VM account, two for the edge account, two for the deploy account, one for the DAG-test account.
        "google_project_iam_member": 2 * len(kinds) + (2 if edges else 0) + (3 if deploy else 0),
        # IAP tunnel grants per VM: the deploy builds' only (edge_tunnel_members is unset in every profile).
        "google_iap_tunnel_instance_iam_member": (1 + workers + edges) if deploy else 0,
        # The deploy account reads each cluster secret; each VM account reads the deploy key.
        "google_secret_manager_secret_iam_member": (n_secrets + len(kinds)) if deploy else 0,
        # The deploy account acts as each VM kind's account (OS Login on VMs that run as it).
        "google_service_account_iam_member": (len(kinds) + (1 if edges else 0)) if deploy else 0,
        "google_cloudbuild_trigger": 2 if deploy else 0,
        "google_pubsub_topic": 1 if deploy else 0,
        "google_monitoring_alert_policy": len(rule_names()),
        "google_monitoring_dashboard": 1,
        "google_monitoring_notification_channel": len(emails),
    }
    wrong = {t: (by_type.get(t, 0), n) for t, n in expected.items() if by_type.get(t, 0) != n}
    assert not wrong, f"{name}: resource counts (planned, expected): {wrong}"

    # VMs: no external IP, Shielded VM, OS Login, each kind of VM its own account of the cluster.
    edge_email = account_email("airflow-edge-sa")
    vm_email = {"main": account_email("airflow-main-sa"), "worker": account_email("airflow-worker-sa"), "edge": edge_email}
    for vm in of("google_compute_instance"):
        a = after(vm)
        assert all(not nic.get("access_config") for nic in a["network_interface"]), f"{name}: {vm['address']} external IP"
        assert all(not nic.get("ipv6_access_config") for nic in a["network_interface"]), f"{name}: {vm['address']} external IPv6"
        assert a["shielded_instance_config"][0]["enable_secure_boot"], f"{name}: {vm['address']} secure boot"
        assert a["metadata"]["enable-oslogin"] == "TRUE" and a["metadata"]["block-project-ssh-keys"] == "TRUE"
        assert a["metadata"]["serial-port-enable"] == "FALSE", f"{name}: {vm['address']} serial port"
        want_sa = vm_email[a["labels"]["airflow-role"]]
        assert a["service_account"][0]["email"] == want_sa, f"{name}: {vm['address']} runs as {a['service_account'][0]['email']}"
        assert a["deletion_protection"] == (tfvars.get("vm_deletion_protection") == "true"), f"{name}: VM deletion protection"
    edge_vms = sorted(after(vm)["name"] for vm in of("google_compute_instance") if after(vm)["labels"]["airflow-role"] == "edge")
    assert edge_vms == sorted(f"airflow-edge-{i}" for i in range(1, edges + 1)), f"{name}: edge VMs {edge_vms}"
    for vm in of("google_compute_instance"):
        if after(vm)["name"] in edge_vms:
            assert after(vm)["tags"] == ["airflow-edge"], f"{name}: {vm['address']} tags {after(vm)['tags']}"

    # Cloud SQL: private IP only, TLS only, backups with PITR, deletion protection, the profile's tier.
    (sql,) = of("google_sql_database_instance")
    s = after(sql)
    settings = s["settings"][0]
    ip = settings["ip_configuration"][0]
    assert ip["ipv4_enabled"] is False and ip["ssl_mode"] == "ENCRYPTED_ONLY", f"{name}: SQL must be private + TLS"
    assert not ip.get("authorized_networks"), f"{name}: SQL authorized networks"
    assert sql["change"]["after_unknown"]["settings"][0]["ip_configuration"][0]["private_network"], f"{name}: private network"
    assert s["deletion_protection"] is True and settings["deletion_protection_enabled"] is True, f"{name}: SQL deletion protection"
    assert settings["backup_configuration"][0]["point_in_time_recovery_enabled"] is True
    assert settings["tier"] == tfvars.get("database_tier", "db-custom-2-7680"), f"{name}: tier"
    assert settings["availability_type"] == tfvars.get("database_availability_type", "REGIONAL"), f"{name}: availability"

    (bucket,) = of("google_storage_bucket")
    assert after(bucket)["public_access_prevention"] == "enforced" and after(bucket)["uniform_bucket_level_access"] is True
    # Soft delete: whatever a writer deletes or overwrites stays restorable for log_soft_delete_days (7 by default).
    soft_delete_days = int(tfvars.get("log_soft_delete_days", "7"))
    soft_delete = [p["retention_duration_seconds"] for p in after(bucket)["soft_delete_policy"]]
    assert soft_delete == [soft_delete_days * 86400], f"{name}: soft delete {soft_delete}, want {soft_delete_days} days"
    # Each VM kind's account (main, worker, edge) writes the task logs: objectUser on this bucket, one binding each.
    writers = sorted((after(rc)["member"], after(rc)["role"], after(rc)["bucket"]) for rc in of("google_storage_bucket_iam_member"))
    want_writers = sorted((f"serviceAccount:{vm_email[k]}", "roles/storage.objectUser", f"{PROJECT}-airflow-task-logs")
                          for k in kinds + (["edge"] if edges else []))
    assert writers == want_writers, f"{name}: task-log bucket grants {writers}"

    # Firewall: IAP range only from outside; the worker log-server range follows airflow_worker_instances.
    rules = {after(rc)["name"]: after(rc) for rc in of("google_compute_firewall")}
    for rule in rules.values():
        assert "0.0.0.0/0" not in (rule.get("source_ranges") or []), f"{name}: open ingress"
    first = base_value("airflow_worker_log_server_port")
    want = str(first) if instances == 1 else f"{first}-{first + instances - 1}"
    assert rules["airflow-allow-main-to-worker-logs"]["allow"][0]["ports"] == [want], f"{name}: log ports != {want}"
    assert rules["airflow-allow-iap-ui"]["allow"][0]["ports"] == [str(base_value("airflow_api_port")), str(base_value("airflow_flower_port"))]
    # The Celery worker VMs send nothing to Cloud SQL: an egress deny of every protocol, on the worker tag only, to
    # the private service access range (its address is known only once the range exists: unknown in the plan).
    (deny_sql_rc,) = [rc for rc in of("google_compute_firewall") if after(rc)["name"] == "airflow-deny-worker-egress-sql"]
    deny_sql = after(deny_sql_rc)
    assert (deny_sql["direction"], deny_sql["target_tags"], deny_sql["priority"]) == ("EGRESS", ["airflow-worker"], 1000), f"{name}: {deny_sql}"
    assert deny_sql["deny"] == [{"protocol": "all", "ports": []}] and not deny_sql.get("allow"), f"{name}: worker deny {deny_sql}"
    assert deny_sql_rc["change"]["after_unknown"].get("destination_ranges") is True, f"{name}: the deny's range is not the SQL range"
    for rule_name, rule in rules.items():
        if rule["direction"] == "EGRESS" and rule.get("allow"):
            assert "airflow-worker" not in (rule.get("target_tags") or []) and rule.get("target_tags"), f"{name}: {rule_name} lets worker VMs out"
        if rule["direction"] == "EGRESS" and rule_name != "airflow-deny-worker-egress-sql":
            assert "airflow-main" not in (rule.get("target_tags") or []), f"{name}: {rule_name} limits the main VM's egress"
    ssh_targets = sorted(rules["airflow-allow-iap-ssh"]["target_tags"])
    if edges:
        # Edge workers: IAP SSH reaches them; they reach the main VM's API port and nothing else in the VPC.
        assert ssh_targets == ["airflow-edge", "airflow-main", "airflow-worker"], f"{name}: IAP SSH targets {ssh_targets}"
        e2m = rules["airflow-allow-edge-to-main"]
        assert (e2m["direction"], e2m["source_tags"], e2m["target_tags"]) == ("INGRESS", ["airflow-edge"], ["airflow-main"]), f"{name}: {e2m}"
        assert e2m["allow"] == [{"protocol": "tcp", "ports": [str(base_value("airflow_api_port"))]}], f"{name}: edge -> main {e2m['allow']}"
        egress = rules["airflow-allow-edge-egress-api"]
        assert egress["direction"] == "EGRESS" and egress["target_tags"] == ["airflow-edge"] and egress["priority"] == 900
        assert egress["allow"] == [{"protocol": "tcp", "ports": [str(base_value("airflow_api_port"))]}], f"{name}: edge egress {egress['allow']}"
        deny = rules["airflow-deny-edge-egress-internal"]
        assert deny["direction"] == "EGRESS" and deny["target_tags"] == ["airflow-edge"] and deny["priority"] == 1000
        assert deny["deny"] == [{"protocol": "all", "ports": []}] and not deny.get("allow"), f"{name}: edge deny {deny}"
        for rule_name, rule in rules.items():
            if rule_name not in ("airflow-allow-iap-ssh", "airflow-allow-edge-egress-api", "airflow-deny-edge-egress-internal"):
                assert "airflow-edge" not in (rule.get("target_tags") or []), f"{name}: {rule_name} reaches the Edge workers"
            if rule_name != "airflow-allow-edge-to-main":
                assert "airflow-edge" not in (rule.get("source_tags") or []), f"{name}: {rule_name} is a flow from the Edge workers"
    else:
        assert ssh_targets == ["airflow-main", "airflow-worker"], f"{name}: IAP SSH targets {ssh_targets}"
        assert not [r for r in rules if "edge" in r], f"{name}: edge firewall rules without Edge workers"

    # IAM: the cluster's accounts are exactly these, by account id.
    accounts = sorted(after(rc)["account_id"] for rc in of("google_service_account"))
    want_accounts = sorted([f"airflow-{k}-sa" for k in kinds] + (["airflow-edge-sa"] if edges else [])
                           + (["airflow-dag-tests", "airflow-deploy"] if deploy else []))
    assert accounts == want_accounts, f"{name}: service accounts {accounts}"

    # Each VM account (main, worker): two project roles, objectUser on the task-log bucket and, with a trigger, the
    # deploy key; no cluster secret, nothing else. With a trigger the deploy account may act as it.
    grants = [after(rc) for rc in of("google_secret_manager_secret_iam_member")]
    vm_members = {f"serviceAccount:{vm_email[k]}" for k in kinds}
    for kind in kinds:
        member = f"serviceAccount:{vm_email[kind]}"
        want = [("google_project_iam_member", "roles/logging.logWriter"), ("google_project_iam_member", "roles/monitoring.metricWriter"),
                *([("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor")] if deploy else []),
                ("google_storage_bucket_iam_member", "roles/storage.objectUser")]
        assert grants_of(changes, member) == want, f"{name}: the {kind} account's grants {grants_of(changes, member)}"
        vm_secrets = sorted(g["secret_id"] for g in grants if g["member"] == member)
        assert vm_secrets == (["airflow-deploy-key"] if deploy else []), f"{name}: the {kind} account reads {vm_secrets}"
    # The deploy account reads each cluster secret and not the deploy key.
    build_secrets = sorted(g["secret_id"] for g in grants if g["member"] not in vm_members)
    if deploy:
        assert build_secrets == sorted(f"airflow-{n.replace('_', '-')}" for n in spec_names()), f"{name}: build reads {build_secrets}"
        acts_as = sorted(after(rc)["service_account_id"].rsplit("/", 1)[1] for rc in of("google_service_account_iam_member")
                         if after(rc)["member"] == f"serviceAccount:{account_email('airflow-deploy')}")
        want_acts_as = sorted(vm_email[k] for k in kinds + (["edge"] if edges else []))
        assert acts_as == want_acts_as, f"{name}: the deploy account acts as {acts_as}"

    # The Edge worker account: two project roles, objectUser on the task-log bucket, no secret, nothing else.
    edge_member = f"serviceAccount:{edge_email}"
    want_edge = [("google_project_iam_member", "roles/logging.logWriter"), ("google_project_iam_member", "roles/monitoring.metricWriter"),
                 ("google_storage_bucket_iam_member", "roles/storage.objectUser")] if edges else []
    assert grants_of(changes, edge_member) == want_edge, f"{name}: the edge account's grants {grants_of(changes, edge_member)}"
    assert not [g for g in grants if g["member"] == edge_member], f"{name}: the edge account reads a secret"

    # Nobody gets objectAdmin on the task-log bucket (or any other storage grant than the writers' objectUser).
    assert not [rc["address"] for rc in changes if "_iam_" in rc["type"] and after(rc).get("role", "").startswith("roles/storage.")
                and after(rc)["role"] != "roles/storage.objectUser"], f"{name}: a storage grant beyond objectUser"

    if deploy:
        check_triggers(name, data, changes)

    # Monitoring: one PromQL alert policy per rule, on this cluster's VMs and Cloud SQL instance only, with the
    # thresholds substituted; the profile's e-mail channels notified by every policy; a PromQL dashboard.
    vm_regex = "|".join(["airflow-main"] + [f"airflow-worker-{i}" for i in range(1, workers + 1)]
                        + [f"airflow-edge-{i}" for i in range(1, edges + 1)])
    policies = {after(rc)["conditions"][0]["condition_prometheus_query_language"][0]["alert_rule"]: rc for rc in of("google_monitoring_alert_policy")}
    assert sorted(policies) == sorted(rule_names()), f"{name}: policies {sorted(policies)}"
    for rule, rc in policies.items():
        cond = after(rc)["conditions"][0]["condition_prometheus_query_language"][0]
        query = cond["query"]
        assert "${" not in query and "%{" not in query, f"{name}: {rule}: unsubstituted placeholder in {query}"
        assert f'=~"{vm_regex}"' in query or f'database_id="{PROJECT}:airflow-pg"' in query, f"{name}: {rule} selects {query}"
        assert re.fullmatch(r"[0-9]+s", cond["duration"]) and cond["evaluation_interval"] == "60s", f"{name}: {rule} timing"
        assert after(rc)["documentation"][0]["mime_type"] == "text/markdown" and after(rc)["documentation"][0]["content"]
        if emails:
            assert rc["change"]["after_unknown"]["notification_channels"], f"{name}: {rule} notifies no created channel"
        else:
            assert after(rc)["notification_channels"] == [], f"{name}: {rule} notifies {after(rc)['notification_channels']}"
    assert sorted(after(rc)["labels"]["email_address"] for rc in of("google_monitoring_notification_channel")) == sorted(emails)
    thresholds = {rule: float(after(rc)["conditions"][0]["condition_prometheus_query_language"][0]["query"].rsplit(">", 1)[1])
                  for rule, rc in policies.items() if rule in ("queued_tasks_piling_up", "metadata_db_disk_near_full", "vm_disk_near_full")}
    assert thresholds == {"queued_tasks_piling_up": 50, "metadata_db_disk_near_full": 0.85, "vm_disk_near_full": 0.9}, f"{name}: {thresholds}"
    (dash,) = of("google_monitoring_dashboard")
    tiles = json.loads(after(dash)["dashboard_json"])["mosaicLayout"]["tiles"]
    queries = [d["timeSeriesQuery"] for t in tiles for d in t["widget"]["xyChart"]["dataSets"]]
    assert len(tiles) == 12 and all(list(q) == ["prometheusQuery"] for q in queries), f"{name}: dashboard charts"
    monitoring = data["output_changes"]["monitoring"]["after"]
    assert sorted(monitoring["alert_policies"]) == sorted(rule_names()), f"{name}: monitoring output"

    # The ansible output object.
    change = data["output_changes"]["ansible"]["after"]
    assert change["worker_vm_names"] == [f"airflow-worker-{i}" for i in range(1, workers + 1)]
    # edge_vm_names: only with Edge workers (an optional key; the object of a cluster without them is unchanged).
    assert change.get("edge_vm_names") == ([f"airflow-edge-{i}" for i in range(1, edges + 1)] if edges else None), f"{name}: edge_vm_names"
    assert change["airflow_worker_instances"] == instances
    assert set(change["secret_ids"]) == set(spec_names())
    return [f"{name}: {len(changes)} resources ({by_type['google_compute_instance']} VMs{f' ({edges} edge)' if edges else ''}, "
            f"{instances * 8 * max(workers, 1)} task slots, {len(policies)} alert policies)"]


def check_triggers(name: str, data: dict, changes: list[dict]) -> None:
    """The two builds of a push: the DAG tests as an account that writes build logs only, and, on their success,
    the deploy as the deploy account, held for an approver."""
    triggers = {rc["address"].rsplit(".", 1)[1]: rc for rc in changes if rc["type"] == "google_cloudbuild_trigger"}
    assert sorted(triggers) == ["deploy", "test"], f"{name}: triggers {sorted(triggers)}"
    test, deploy = after(triggers["test"]), after(triggers["deploy"])

    # The DAG-test account: logging.logWriter at project level, and no other grant anywhere in the plan (no secret,
    # no VM, no IAP tunnel, no serviceAccountUser, no bucket).
    dag_member = f"serviceAccount:{account_email('airflow-dag-tests')}"
    assert grants_of(changes, dag_member) == [("google_project_iam_member", "roles/logging.logWriter")], \
        f"{name}: the DAG-test account's grants {grants_of(changes, dag_member)}"
    deploy_member = f"serviceAccount:{account_email('airflow-deploy')}"
    assert grants_of(changes, deploy_member) == sorted(
        [("google_project_iam_member", "roles/logging.logWriter"), ("google_project_iam_member", "roles/compute.viewer")]
        + [(rc["type"], after(rc)["role"]) for rc in changes if rc["type"] in (
            "google_iap_tunnel_instance_iam_member", "google_compute_instance_iam_member", "google_service_account_iam_member")]
        + [("google_secret_manager_secret_iam_member", "roles/secretmanager.secretAccessor")] * len(spec_names())
    ), f"{name}: the deploy account's grants {grants_of(changes, deploy_member)}"

    # The triggers' accounts are ids, known only once the accounts exist: the plan's configuration says which.
    root = data["configuration"]["root_module"]["module_calls"]["cloudbuild"]
    sa_refs = {r["address"]: r["expressions"]["service_account"]["references"][0]
               for r in root["module"]["resources"] if r["type"] == "google_cloudbuild_trigger"}
    assert sa_refs == {"google_cloudbuild_trigger.test": "var.test_service_account.id",
                       "google_cloudbuild_trigger.deploy": "var.build_service_account.id"}, f"{name}: trigger accounts {sa_refs}"
    passed = {k: root["expressions"][k]["references"][0] for k in ("test_service_account", "build_service_account")}
    assert passed == {"test_service_account": "module.iam.dag_test_service_account",
                      "build_service_account": "module.iam.deploy_service_account"}, f"{name}: build accounts {passed}"

    # The test trigger: a push to main runs cloudbuild.yaml at once, with none of the deploy's substitutions.
    assert test["name"] == "airflow-test-dags" and test["filename"] == "cloudbuild.yaml", f"{name}: test trigger {test}"
    assert test["github"][0]["push"][0]["branch"] == "^main$" and not test["pubsub_config"], f"{name}: test trigger {test}"
    assert not test.get("approval_config") and test["substitutions"] is None, f"{name}: test trigger {test}"

    # The deploy trigger: Cloud Build's notice on the cloud-builds topic, filtered on the test trigger's SUCCESS,
    # runs cloudbuild-deploy.yaml of main, held for an approver.
    assert deploy["name"] == "airflow-deploy-dags" and not deploy["github"] and deploy["filename"] is None, f"{name}: {deploy}"
    assert [p["topic"] for p in deploy["pubsub_config"]] == [f"projects/{PROJECT}/topics/cloud-builds"], f"{name}: {deploy}"
    assert [(g["path"], g["revision"], g["repo_type"]) for g in deploy["git_file_source"]] == [
        ("cloudbuild-deploy.yaml", "refs/heads/main", "GITHUB")], f"{name}: {deploy['git_file_source']}"
    assert [(s["ref"], s["uri"]) for s in deploy["source_to_build"]] == [("refs/heads/main", "https://github.com/acme/airflow-dags")]
    assert deploy["approval_config"] == [{"approval_required": True}], f"{name}: approvals {deploy['approval_config']}"
    assert triggers["deploy"]["change"]["after_unknown"].get("filter") is True, f"{name}: the filter does not name the test trigger"
    topics = [after(rc) for rc in changes if rc["type"] == "google_pubsub_topic"]
    assert [(t["name"], t["project"]) for t in topics] == [("cloud-builds", PROJECT)], f"{name}: topics {topics}"
    services = sorted(after(rc)["service"] for rc in changes if rc["type"] == "google_project_service")
    assert {"cloudbuild.googleapis.com", "pubsub.googleapis.com"} <= set(services), f"{name}: services {services}"
    out = data["output_changes"]["deploy"]["after_unknown"]
    assert out.get("test_trigger_id") is True and out.get("trigger_id") is True, f"{name}: deploy output {out}"
    known = data["output_changes"]["deploy"]["after"]
    assert known["dag_test_service_account_email"] == account_email("airflow-dag-tests"), f"{name}: deploy output {known}"
    assert known["build_service_account_email"] == account_email("airflow-deploy") and known["approval_required"] is True


def check_no_secret(name: str, data_text: str, raw_plan: bytes, proto_files: list[pathlib.Path]) -> int:
    """The values the random provider drew are nowhere in the plan; returns how many were checked."""
    drawn: set[str] = set()
    for f in proto_files:
        if "OpenEphemeralResource_Response_Result" in f.name:
            result = unpack(f.read_bytes())
            for key in ("result", "base64"):
                if isinstance(result, dict) and isinstance(result.get(key), str):
                    drawn.add(result[key])
                    if key == "base64":  # the fernet key as written: URL-safe base64
                        drawn.add(result[key].replace("+", "-").replace("/", "_"))
                        drawn.add(result.get("hex", ""))
    drawn.discard("")
    n_specs = len(spec_names())
    assert len([v for v in drawn if len(v) >= 24]) >= n_specs, f"{name}: only {len(drawn)} drawn values seen"
    # The values did reach the google provider (write-only config of the secret versions and the SQL user)...
    sent = "".join(s for f in proto_files if "PlanResourceChange_Request_Config" in f.name for s in strings(unpack(f.read_bytes())))
    missing = [v for v in drawn if v not in sent and not re.fullmatch(r"[0-9a-f]+", v) and "+" not in v and "/" not in v]
    assert not missing, f"{name}: {len(missing)} drawn values never reached the provider: the proof would be vacuous"
    # ... and are in neither the plan file nor its JSON.
    for value in drawn:
        assert value not in data_text, f"{name}: a generated secret is in terraform show -json"
        assert value.encode() not in raw_plan, f"{name}: a generated secret is in the plan file"
    return len(drawn)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, type=pathlib.Path)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    tf_dir = args.src / "terraform"
    args.out.mkdir(parents=True, exist_ok=True)

    # A local backend instead of the gcs one (plans need an initialised backend; no state is written).
    (tf_dir / "zz_checks_backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    env = dict(os.environ, TF_DATA_DIR=str(args.out / ".terraform"))
    run([os.environ["TERRAFORM"], "init", "-input=false", "-no-color"], tf_dir, env)
    os.environ["TF_DATA_DIR"] = env["TF_DATA_DIR"]

    runs = [(p.stem, ["-var-file=" + str(p)], profile_vars(p), False, profile_emails(p)) for p in sorted(EXAMPLES.glob("*.tfvars"))]
    assert {r[0] for r in runs} == {"small", "standard", "ha"}, f"profiles: {[r[0] for r in runs]}"
    std = EXAMPLES / "standard.tfvars"
    runs.append(("standard+deploy", [f"-var-file={std}", f"-var=deploy_trigger={DEPLOY_TRIGGER}",
                                     f"-var=log_soft_delete_days={DEPLOY_SOFT_DELETE_DAYS}"],
                 profile_vars(std) | {"log_soft_delete_days": DEPLOY_SOFT_DELETE_DAYS}, True, profile_emails(std)))

    failures, lines, checked = 0, [], 0
    for name, var_args, tfvars, deploy, emails in runs:
        try:
            data, raw, proto = plan(tf_dir, name, var_args, args.out)
            lines += check_plan(name, data, tfvars, deploy, emails)
            checked += check_no_secret(name, json.dumps(data), raw, proto)
            print(f"ok   {lines[-1]}; no generated secret in the plan")
        except AssertionError as exc:
            failures += 1
            print(f"FAIL {name}: {exc or traceback.format_exc(limit=-1)}")
    print(f"plans: {len(runs) - failures}/{len(runs)} ok ({', '.join(l.split(' (')[0] for l in lines)}); "
          f"{checked} generated values proven absent")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
