"""kitlib.testbed reads the test bed's layout from the inventories (no Docker needed): the demo's, the
benchmark's derived from it, and each Molecule scenario's."""
import subprocess

import pytest
import yaml

from kitlib import paths, testbed

SCENARIOS = paths.REPO / "molecule"


@pytest.fixture(scope="module")
def demo():
    return testbed.load()


def test_demo_layout(demo):
    assert demo.prefix == "agk" and demo.network == "agk-net"
    assert demo.group("airflow_main") == ["agk-main"]
    assert demo.group("airflow_workers") == ["agk-worker1", "agk-worker2"]
    assert demo.group("git_remote_local") == ["agk-git"]
    assert demo.url("airflow_api_port") == "https://127.0.0.1:8080"


def test_container_ports_are_the_roles_own(demo):
    main = demo.hosts["agk-main"]
    api, flower = testbed.role_default("airflow_api_port"), testbed.role_default("airflow_flower_port")
    assert main.publish_args() == ["-p", f"127.0.0.1:{demo.port('airflow_api_port')}:{api}",
                                   "-p", f"127.0.0.1:{demo.port('airflow_flower_port')}:{flower}"]
    git = testbed.role_default("git_remote_local_port")
    assert demo.hosts["agk-git"].publish_args() == ["-p", f"127.0.0.1:{demo.port('git_remote_local_port')}:{git}"]
    assert demo.hosts["agk-worker1"].publish_args() == []


def test_unknown_role_variable_is_an_error():
    with pytest.raises(KeyError, match="no_such_port"):
        testbed.role_default("no_such_port")


def test_derived_cluster_renames_hosts_moves_ports_and_empties_groups(demo):
    bench = demo.derive("agkb", {"airflow_api_port": 18180, "airflow_flower_port": 15555},
                        empty_groups=["git_remote_local", "prometheus_local", "airflow_edge_workers",
                                      "vpc_egress_local"])
    assert bench.names() == ["agkb-main", "agkb-worker1", "agkb-worker2", "agkb-db", "agkb-gcs"]
    assert bench.group("git_remote_local") == [] and bench.network == "agkb-net"
    assert bench.url("airflow_api_port") == "https://127.0.0.1:18180"
    assert demo.url("airflow_api_port") == "https://127.0.0.1:8080"  # the source is left as it was
    with pytest.raises(ValueError, match="airflow_flower_port"):
        demo.derive("agkb", {"airflow_api_port": 18180})  # would publish 5555 twice


def test_a_joining_worker_is_one_more_host_of_the_group(demo):
    joined = demo.with_host("airflow_workers", "agk-worker3")
    assert joined.group("airflow_workers") == ["agk-worker1", "agk-worker2", "agk-worker3"]
    assert joined.hosts["agk-worker3"].groups == ("airflow_workers",)
    assert joined.hosts["agk-worker3"].publish_args() == []
    assert "agk-worker3" not in demo.hosts  # the source is left as it was
    with pytest.raises(ValueError, match="agk-worker1"):
        demo.with_host("airflow_workers", "agk-worker1")
    with pytest.raises(KeyError, match="edge"):
        demo.with_host("edge", "agk-edge2")


def test_shared_dirs_mount_one_control_machine_folder_on_every_host_that_lists_it(demo):
    sharing = [name for name, host in demo.hosts.items() if host.shared_dirs]
    assert sorted(sharing) == ["agk-edge", "agk-worker1", "agk-worker2"]
    mounts = {name: demo.mount_args(demo.hosts[name]) for name in sharing}
    assert len({tuple(args) for args in mounts.values()}) == 1, mounts
    assert mounts["agk-edge"] == ["-v", f"{demo.shared_dir('airflow_nas_dir')}:/mnt/nas"]
    assert demo.shared_dir("airflow_nas_dir").stat().st_mode & 0o7777 == 0o1777
    assert demo.mount_args(demo.hosts["agk-main"]) == []


def test_written_inventory_is_what_ansible_sees(demo, tmp_path):
    inv = demo.derive("ghost").write(tmp_path / "inv")
    assert (inv / "group_vars").resolve() == (paths.LOCAL_INVENTORY.parent / "group_vars").resolve()
    out = subprocess.run(["ansible-inventory", "-i", str(inv), "--list"], capture_output=True, text=True,
                         check=True).stdout
    listed = yaml.safe_load(out)
    assert listed["airflow_workers"]["hosts"] == ["ghost-worker1", "ghost-worker2"]
    assert "testbed_ports" not in listed["_meta"]["hostvars"]["ghost-main"]  # ports=None: none published
    assert testbed.load(inv / "hosts.yml").groups == {g: [h.replace("agk-", "ghost-") for h in m]
                                                      for g, m in demo.groups.items()}


@pytest.mark.parametrize("scenario, main, workers, instances", [
    ("all_in_one", "aio-main", ["aio-main"], 2),
    ("multi_host", "mh-main", ["mh-worker1", "mh-worker2"], None),
])
def test_molecule_scenarios(scenario, main, workers, instances):
    bed = testbed.load(SCENARIOS / scenario / "inventory.yml")
    assert bed.group("airflow_main") == [main] and bed.group("airflow_workers") == workers
    assert bed.hosts[main].vars.get("airflow_worker_instances") == instances
    assert set(bed.group("airflow_db_local") + bed.group("gcs_emulator")) == {f"{bed.prefix}-db", f"{bed.prefix}-gcs"}
    # each scenario publishes its API server on its own loopback port, apart from the demo's
    assert bed.port("airflow_api_port") != testbed.load().port("airflow_api_port")
