"""Local "VMs": Debian 12 containers with systemd as PID 1, on a private Docker network.

The flags are the ones that let systemd and Debian's hardened units (redis, postgresql) run without
--privileged on hosts that lack CAP_SYS_RESOURCE; see ../../molecule/ for the same set in Molecule.
"""
import json
import os
import subprocess
import time
from dataclasses import dataclass, field

from . import paths
from .shell import run

IMAGE_REPO = "airflow-gcp-kit/debian12-systemd"
SYSTEMD_FLAGS = [
    "--cgroupns=host",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run",
    "--tmpfs", "/run/lock",
    "--security-opt", "seccomp=unconfined",
    "--cap-add", "SYS_ADMIN",
    "--cap-add", "NET_ADMIN",
    "--cap-add", "SYS_PTRACE",
]


@dataclass
class Vm:
    name: str
    ports: list = field(default_factory=list)  # "127.0.0.1:HOST:CONTAINER"


@dataclass
class Cluster:
    prefix: str
    network: str
    vms: list

    def names(self):
        return [vm.name for vm in self.vms]


def _cluster(prefix: str, ui_port: int, flower_port: int, extra_vms=()) -> Cluster:
    """main (UI and Flower published on loopback), two workers, the DB and GCS stand-ins, then extras."""
    return Cluster(
        prefix=prefix,
        network=f"{prefix}-net",
        vms=[
            Vm(f"{prefix}-main", [f"127.0.0.1:{ui_port}:8080", f"127.0.0.1:{flower_port}:5555"]),
            Vm(f"{prefix}-worker1"),
            Vm(f"{prefix}-worker2"),
            Vm(f"{prefix}-db"),
            Vm(f"{prefix}-gcs"),
            *extra_vms,
        ],
    )


def local_cluster(ui_port: int = 8080, flower_port: int = 5555, git_port: int | None = None) -> Cluster:
    """The layout of ansible/inventories/local/hosts.yml."""
    git_port = git_port or int(os.environ.get("AGK_GIT_PORT", "9418"))
    # git daemon standing in for the hosted repository; the control machine pushes through 127.0.0.1.
    return _cluster("agk", ui_port, flower_port, [Vm("agk-git", [f"127.0.0.1:{git_port}:9418"])])


def ensure_image() -> str:
    """Build (once) the systemd image with debootstrap + docker import; return its tag."""
    out = run(["bash", str(paths.REPO / "scripts" / "build-vm-image.sh")], capture=True)
    return out.stdout.strip().splitlines()[-1]


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["docker", kind, "inspect", name], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _running(name: str) -> bool:
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name],
                         capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip() == "true"


def up(cluster: Cluster, image: str, wheelhouse: str) -> None:
    """Create what is missing, start what is stopped; reuse what runs."""
    if not _exists("network", cluster.network):
        run(["docker", "network", "create", cluster.network], capture=True)
    for vm in cluster.vms:
        if _exists("container", vm.name):
            if not _running(vm.name):
                run(["docker", "start", vm.name], capture=True)
            continue
        cmd = ["docker", "run", "-d", "--name", vm.name, "--hostname", vm.name,
               "--network", cluster.network, "--label", f"airflow-gcp-kit={cluster.prefix}",
               *SYSTEMD_FLAGS, "-v", f"{wheelhouse}:/opt/wheelhouse:ro"]
        for port in vm.ports:
            cmd += ["-p", port]
        cmd += [image, "/sbin/init"]
        run(cmd, capture=True)
    for vm in cluster.vms:
        wait_booted(vm.name)


def wait_booted(name: str, timeout: float = 120) -> None:
    """Wait until systemd in the container has finished booting (running or degraded)."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        out = subprocess.run(["docker", "exec", name, "systemctl", "is-system-running"],
                             capture_output=True, text=True)
        state = out.stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise RuntimeError(f"{name}: systemd did not finish booting in {timeout}s (state {state!r})")


def down(cluster: Cluster) -> None:
    names = [vm.name for vm in cluster.vms if _exists("container", vm.name)]
    if names:
        run(["docker", "rm", "-f", "-v", *names], capture=True)
    if _exists("network", cluster.network):
        run(["docker", "network", "rm", cluster.network], capture=True)


def status(cluster: Cluster) -> dict:
    return {vm.name: ("running" if _running(vm.name) else
                      "stopped" if _exists("container", vm.name) else "absent")
            for vm in cluster.vms}


def bench_cluster(ui_port: int = 18180, flower_port: int = 15555) -> Cluster:
    """A second local cluster for the benchmarks: the demo's layout without the git server (DAGs are
    copied from the control machine, as in Molecule), so it never disturbs a running demo."""
    return _cluster("agkb", ui_port, flower_port)


def write_inventory(cluster: Cluster, directory) -> str:
    """An Ansible inventory for a cluster of this module, with the local inventory's group_vars.

    Host groups follow the names: -main, -workerN, -db, -gcs (see ansible/inventories/local/hosts.yml).
    """
    from pathlib import Path

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    groups = {"airflow_main": [], "airflow_workers": [], "airflow_db_local": [], "gcs_emulator": []}
    for vm in cluster.vms:
        suffix = vm.name[len(cluster.prefix) + 1:]
        group = ("airflow_main" if suffix == "main" else "airflow_workers" if suffix.startswith("worker")
                 else "airflow_db_local" if suffix == "db" else "gcs_emulator" if suffix == "gcs" else None)
        if group:
            groups[group].append(vm.name)
    inventory = {"all": {"vars": {"ansible_connection": "community.docker.docker", "ansible_user": "root"},
                         "children": {g: {"hosts": {h: None for h in hosts}} for g, hosts in groups.items()}}}
    (directory / "hosts.yml").write_text(json.dumps(inventory, indent=2))
    link = directory / "group_vars"
    if not link.exists():
        link.symlink_to(paths.ANSIBLE_DIR / "inventories" / "local" / "group_vars")
    return str(directory)
