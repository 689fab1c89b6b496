"""The demo cluster, right after `make demo` converged it (deploy stage): a second site.yml over every host changes
nothing. This is Molecule's idempotence step for the multi-host layout, on the cluster the deploy and fault
suites use (the git server and the Edge host included); it prints how long the re-run took."""
import re

from kitlib import playbook, testbed

CLUSTER = "local"


def changed_tasks(output: str) -> list:
    """(task, host) of every change the output reports."""
    found, task = [], None
    for line in output.splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif match := re.match(r"changed: \[([^\]]+)\]", line):
            found.append((task, match.group(1)))
    return found


def test_a_second_converge_changes_nothing():
    took, result = playbook.site("inventories/local", CLUSTER)
    recap = playbook.changed_per_host(result.stdout)
    hosts = testbed.load().names()
    assert set(hosts) <= set(recap), f"hosts missing from the recap: {set(hosts) - set(recap)}"
    changed = {host: count for host, count in recap.items() if count}
    assert not changed, f"a second site.yml changed {changed}: {changed_tasks(result.stdout)}"
    print(f"\nsecond site.yml over {len(recap)} hosts: changed=0 in {took:.0f} s")
