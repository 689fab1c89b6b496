"""The local test bed: Debian 12 containers with systemd as PID 1 ("VMs"), described by an Ansible inventory.

The inventory is the one source of a test-bed cluster: its hosts, their groups, and the ports published on
the control machine's loopback. `make demo` uses ansible/inventories/local/hosts.yml, each Molecule scenario
its own inventory.yml, the benchmark a cluster derived from the demo's. A published port is a host var:

    agk-main:
      testbed_ports:              # loopback port on the control machine, keyed by the role variable that
        airflow_api_port: 8080    # holds the container port (read from ansible/roles/*/defaults/main.yml)

Host names are <prefix>-<name>; the prefix names the cluster's Docker network (<prefix>-net) and labels its
containers. The container flags below let systemd and Debian's hardened units (redis, postgresql) run
without --privileged on hosts that lack CAP_SYS_RESOURCE.

CLI (Molecule's create/destroy playbooks, and by hand):
    python -m kitlib.testbed up|down|status [INVENTORY]      (default: the demo's inventory)
"""
import argparse
import concurrent.futures
import copy
import functools
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import paths, wheelhouse
from .shell import run

PORTS_VAR = "testbed_ports"
# Folders shared by several VMs (a NAS standing in): a host var listing role variables whose value, read from
# the inventory's group_vars/all.yml, is the mount point. Every host listing one gets the same host folder,
# $AGK_CACHE/testbed/<prefix>-<variable>, mode 1777 (any VM's airflow user writes; files keep their owner).
SHARED_VAR = "testbed_shared_dirs"
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
WHEELHOUSE_MOUNT = "/opt/wheelhouse"  # ansible/inventories/local/group_vars: airflow_pip_find_links

# The API server and Flower serve only HTTPS, with the main VM's certificate from the cluster CA
# (roles/cluster_tls; its certificate names 127.0.0.1, where the test bed publishes them).
HTTPS_PORTS = ("airflow_api_port", "airflow_flower_port")


@functools.cache
def _role_defaults() -> tuple:
    """(path, variables) of every ansible/roles/*/defaults/main.yml, as written (templates not rendered)."""
    return tuple((path, yaml.safe_load(path.read_text()) or {})
                 for path in sorted(paths.ANSIBLE_DIR.glob("roles/*/defaults/main.yml")))


def role_default(name: str):
    """A role default by name, read where the role defines it: role_default("airflow_api_port") -> 8080."""
    found = {str(path): defaults[name] for path, defaults in _role_defaults() if name in defaults}
    if len(found) != 1:
        raise KeyError(f"{name} must be the default of exactly one role, found {found or 'none'}")
    return next(iter(found.values()))


@dataclass(frozen=True)
class Host:
    name: str
    groups: tuple
    vars: dict = field(default_factory=dict)

    @property
    def ports(self) -> dict:
        """Role variable naming a container port -> the loopback port it is published on."""
        return dict(self.vars.get(PORTS_VAR) or {})

    @property
    def shared_dirs(self) -> list:
        return list(self.vars.get(SHARED_VAR) or [])

    def publish_args(self) -> list:
        args = []
        for var, loopback in self.ports.items():
            args += ["-p", f"127.0.0.1:{int(loopback)}:{int(role_default(var))}"]
        return args


@dataclass
class Testbed:
    prefix: str
    groups: dict  # group -> [host names], in inventory order
    hosts: dict  # name -> Host
    vars: dict  # the inventory's all.vars
    group_vars: Path | None = None  # the group_vars folder beside the inventory, if any

    @property
    def network(self) -> str:
        return f"{self.prefix}-net"

    @property
    def label(self) -> str:
        return f"airflow-gcp-kit={self.prefix}"

    def names(self) -> list:
        return list(self.hosts)

    def group(self, name: str) -> list:
        return list(self.groups.get(name, []))

    def port(self, var: str) -> int:
        """The loopback port where the container port named by var (e.g. airflow_api_port) is published."""
        ports = [h.ports[var] for h in self.hosts.values() if var in h.ports]
        if len(ports) != 1:
            raise KeyError(f"{var} is published by {len(ports)} hosts of the {self.prefix} test bed, not one")
        return int(ports[0])

    def url(self, var: str, scheme: str | None = None) -> str:
        """The URL of a published port on loopback; https for the ports that serve only TLS."""
        return f"{scheme or ('https' if var in HTTPS_PORTS else 'http')}://127.0.0.1:{self.port(var)}"

    def shared_dir(self, var: str) -> Path:
        """The control machine's folder behind the shared directory named by a role variable."""
        return paths.CACHE / "testbed" / f"{self.prefix}-{var}"

    def shared_mount_point(self, var: str) -> str:
        """Where VMs mount it: the variable's value in the inventory's group_vars/all.yml."""
        values = yaml.safe_load((self.group_vars / "all.yml").read_text()) if self.group_vars else {}
        value = (values or {}).get(var)
        if not value or not str(value).startswith("/"):
            raise KeyError(f"{var} must be an absolute path in {self.group_vars}/all.yml for {SHARED_VAR}")
        return str(value)

    def mount_args(self, host: "Host") -> list:
        args = []
        for var in host.shared_dirs:
            folder = self.shared_dir(var)
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o1777)
            args += ["-v", f"{folder}:{self.shared_mount_point(var)}"]
        return args

    def derive(self, prefix: str, ports: dict | None = None, empty_groups=()) -> "Testbed":
        """The same layout under another name prefix. Groups in empty_groups stay, without hosts (a host left
        in no group is left out); published ports move to `ports` (var -> loopback port; every published var
        must get one, so both clusters can run side by side), or are dropped when ports is None."""
        rename = {name: prefix + name[len(self.prefix):] for name in self.hosts}
        groups = {g: [] if g in empty_groups else [rename[h] for h in members] for g, members in self.groups.items()}
        kept = {h for members in groups.values() for h in members}
        hosts = {}
        for old, host in self.hosts.items():
            if rename[old] not in kept:
                continue
            host_vars = copy.deepcopy(host.vars)
            if host.ports:
                if ports is None:
                    del host_vars[PORTS_VAR]
                else:
                    missing = set(host.ports) - set(ports)
                    if missing:
                        raise ValueError(f"derive({prefix!r}): no loopback port for {sorted(missing)}")
                    host_vars[PORTS_VAR] = {var: ports[var] for var in host.ports}
            hosts[rename[old]] = Host(rename[old], tuple(g for g in host.groups if rename[old] in groups[g]), host_vars)
        return Testbed(prefix, groups, hosts, copy.deepcopy(self.vars), self.group_vars)

    def with_host(self, group: str, name: str) -> "Testbed":
        """The same test bed with one more host in group (a new worker VM joining, say); no published ports."""
        if name in self.hosts:
            raise ValueError(f"{name} is already a host of the {self.prefix} test bed")
        if group not in self.groups:
            raise KeyError(f"the {self.prefix} test bed has no group {group}")
        groups = {g: members + [name] if g == group else list(members) for g, members in self.groups.items()}
        hosts = dict(self.hosts, **{name: Host(name, (group,))})
        return Testbed(self.prefix, groups, hosts, copy.deepcopy(self.vars), self.group_vars)

    def inventory(self) -> dict:
        """The Ansible inventory (YAML structure) of this test bed; host vars under the host's first group."""
        children, placed = {}, set()
        for group, members in self.groups.items():
            children[group] = {"hosts": {}}
            for name in members:
                children[group]["hosts"][name] = None if name in placed else (self.hosts[name].vars or None)
                placed.add(name)
        return {"all": {"vars": self.vars, "children": children}}

    def write(self, directory) -> Path:
        """Write hosts.yml (and a link to the source inventory's group_vars) to directory; return it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hosts.yml").write_text("---\n" + yaml.safe_dump(self.inventory(), sort_keys=False))
        link = directory / "group_vars"
        if self.group_vars and not link.exists():
            link.symlink_to(self.group_vars)
        return directory


def load(inventory=None) -> Testbed:
    """A test bed from an inventory file (all.vars, all.children.GROUP.hosts.HOST: vars)."""
    path = Path(inventory or paths.LOCAL_INVENTORY).resolve()
    data = yaml.safe_load(path.read_text())["all"]
    groups, host_vars, host_groups = {}, {}, {}
    for group, body in (data.get("children") or {}).items():
        groups[group] = []
        for name, hvars in ((body or {}).get("hosts") or {}).items():
            groups[group].append(name)
            host_groups.setdefault(name, []).append(group)
            host_vars.setdefault(name, {}).update(hvars or {})
    prefixes = {name.split("-", 1)[0] for name in host_groups}
    if len(prefixes) != 1 or not all("-" in name for name in host_groups):
        raise ValueError(f"{path}: host names must all be <prefix>-<name> with one prefix, got {sorted(host_groups)}")
    hosts = {name: Host(name, tuple(host_groups[name]), host_vars[name]) for name in host_groups}
    group_vars = path.parent / "group_vars"
    return Testbed(prefixes.pop(), groups, hosts, data.get("vars") or {},
                   group_vars if group_vars.is_dir() else None)


# --- containers ---------------------------------------------------------------------------------------
def ensure_image() -> str:
    """Build (once) the systemd image with debootstrap + docker import; return its tag."""
    out = run(["bash", str(paths.REPO / "scripts" / "build-vm-image.sh")], capture=True)
    return out.stdout.strip().splitlines()[-1]


def ensure_image_and_wheels() -> tuple[str, str]:
    """The VM image and the wheelhouse, each built once, side by side: debootstrap waits on the Debian mirror and
    pip on PyPI, so on a fresh machine neither waits for the other."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        image, wheels = pool.submit(ensure_image), pool.submit(wheelhouse.ensure)
        return image.result(), wheels.result()


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["docker", kind, "inspect", name], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def _running(name: str) -> bool:
    out = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True, text=True)
    return out.returncode == 0 and out.stdout.strip() == "true"


def up(bed: Testbed, image: str | None = None, wheels: str | None = None) -> None:
    """Create what is missing, start what is stopped, reuse what runs; then wait for systemd everywhere."""
    if image is None or wheels is None:
        image, wheels = ensure_image_and_wheels()
    if not _exists("network", bed.network):
        run(["docker", "network", "create", "--label", bed.label, bed.network], capture=True)
    for host in bed.hosts.values():
        if _exists("container", host.name):
            if not _running(host.name):
                run(["docker", "start", host.name], capture=True)
            continue
        run(["docker", "run", "-d", "--name", host.name, "--hostname", host.name, "--network", bed.network,
             "--label", bed.label, *SYSTEMD_FLAGS, "-v", f"{wheels}:{WHEELHOUSE_MOUNT}:ro",
             *host.publish_args(), *bed.mount_args(host), image, "/sbin/init"], capture=True)
    for name in bed.hosts:
        wait_booted(name)
        provision_operator(name)


# The operator as OS Login presents one on a GCE VM: a POSIX user named after the account (alice@example.com ->
# alice_example_com, what the GCP inventory derives from `gcloud config get-value account`), the control machine's
# key authorized, passwordless sudo (roles/compute.osAdminLogin). On GCE the guest environment sets this up from
# OS Login; here docker exec does, once per VM, and nothing else of the rehearsal uses docker exec.
OPERATOR_ACCOUNT = "alice@example.com"
OPERATOR_USER = "alice_example_com"


def operator_key() -> Path:
    """The operator's SSH key on the control machine (made once, kept in the cache like gcloud's own key)."""
    key = paths.CACHE / "ssh" / "operator_ed25519"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", OPERATOR_ACCOUNT, "-f", str(key)], capture=True)
    return key


def provision_operator(name: str) -> None:
    public = operator_key().with_suffix(".pub").read_text().strip()
    home = f"/home/{OPERATOR_USER}"
    script = f"""set -e
id -u {OPERATOR_USER} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {OPERATOR_USER}
install -d -m 0700 -o {OPERATOR_USER} -g {OPERATOR_USER} {home}/.ssh
printf '%s\\n' '{public}' >{home}/.ssh/authorized_keys
chown {OPERATOR_USER}:{OPERATOR_USER} {home}/.ssh/authorized_keys
chmod 0600 {home}/.ssh/authorized_keys
printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\\n' {OPERATOR_USER} >/etc/sudoers.d/google-oslogin-admin
chmod 0440 /etc/sudoers.d/google-oslogin-admin
"""
    run(["docker", "exec", name, "bash", "-c", script], capture=True)


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


def down(bed: Testbed) -> None:
    names = [name for name in bed.hosts if _exists("container", name)]
    if names:
        run(["docker", "rm", "-f", "-v", *names], capture=True)
    if _exists("network", bed.network):
        run(["docker", "network", "rm", bed.network], capture=True)
    for var in sorted({var for host in bed.hosts.values() for var in host.shared_dirs}):
        shutil.rmtree(bed.shared_dir(var), ignore_errors=True)


def status(bed: Testbed) -> dict:
    return {name: ("running" if _running(name) else "stopped" if _exists("container", name) else "absent")
            for name in bed.hosts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitlib.testbed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("inventory", nargs="?", type=Path, help=f"default {paths.LOCAL_INVENTORY}")
    args = parser.parse_args(argv)
    bed = load(args.inventory)
    if args.action == "up":
        up(bed)
    elif args.action == "down":
        down(bed)
    print(json.dumps(status(bed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
