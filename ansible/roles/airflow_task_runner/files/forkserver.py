"""The task forkserver: starts every Airflow task process of this VM as the task user, from a warm interpreter.

Why: Airflow 3.3's task supervisor forks the task process from itself, and the supervisor runs inside the worker
daemon (a Celery pool process, an Edge worker's job process). A forked task would hold a copy of the worker's
memory (its broker password, its log-server key, the execution API tokens it handled) and run as the worker's
user, who reads the worker's configuration. Airflow has a fork-then-exec path for platforms where a bare fork
is unsafe (supervisor._FORK_EXEC_PLATFORMS, macOS): the child execs a new interpreter that rebuilds the task
from the sockets on its file descriptors 0-2. The kit turns that path on for Linux (airflow-tasks-entry.py) and
makes the "interpreter" it execs a launcher (launch.py) that hands those three sockets to this server, which
runs as the task user with only the task configuration in its environment and memory. A fresh interpreter
per task would cost 4 CPU s of imports on a 2-core VM (measured); this server imports once and forks.

Protocol, per connection on the socket systemd passes in (fd 3, group-writable by the worker user only):
  launcher -> server   b"run" with the launcher's fds 0, 1, 2 attached (SCM_RIGHTS)
  launcher -> server   a 4-byte signal number, any number of times: deliver it to the task's process group
  server -> launcher   the task's 4-byte wait status, once, when it has exited
A closed connection (the launcher, or the worker around it, was killed) kills the task's process group.

Each request gets a keeper process (forked from this server) that forks the task, relays signals and reports
its status, so the task never depends on this server again: restarting the server (a config change) leaves
running tasks alone (the unit's KillMode=process).

Each task starts in a folder of its own under the work folder (the first argument), which is also its HOME and
TMPDIR, and the keeper removes it when the task ends: nothing a task writes there (a pip configuration, a module
named like a standard one in the working directory) is found by a later task. The folders are on disk, not in the
unit's /tmp: a restart of this server must not take a running task's files along (a PrivateTmp is removed with
its unit; seen failing a running task). Folders whose keeper was killed are removed at the next start.
AIRFLOW_HOME is the root-owned task configuration folder, so no task can plant an airflow_local_settings.py for
the others either.
"""
import array
import ctypes
import gc
import importlib
import os
import select
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
STATUS = struct.Struct("!i")
REQUEST = b"run"
SYSTEMD_FIRST_FD = 3

_libc = ctypes.CDLL(None, use_errno=True)


def _log(message: str) -> None:
    print(f"airflow-task-forkserver: {message}", file=sys.stderr, flush=True)


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value})")


def _set_title(title: str) -> None:
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    setproctitle(title)


def _warm_up(preload: list) -> None:
    """Import and initialise what every task process needs, so each forked task starts warm.

    The calls below are what the task runner does first in every task (measured with cProfile in a forked
    task: without them each task re-did about 0.5 s of this work). None of them runs DAG code."""
    for name in preload:
        importlib.import_module(name)
    from airflow.sdk.configuration import conf
    from airflow.sdk.listener import get_listener_manager
    from airflow.sdk.log import load_remote_log_handler

    conf.getboolean("metrics", "statsd_on")  # loads the providers' configuration defaults
    get_listener_manager()  # loads the plugins
    load_remote_log_handler()


def _receive(conn: socket.socket) -> list:
    fds = array.array("i")
    message, ancillary, _flags, _address = conn.recvmsg(len(REQUEST), socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if message != REQUEST or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ValueError(f"not a task request ({message!r} with {len(fds)} file descriptors)")
    return list(fds)


def _run_task(fds: list, workdir: str, keeper: int) -> None:
    """In the task process: become what Airflow's exec'd task child expects, then hand over to Airflow."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.chdir(workdir)
    os.environ.update(HOME=workdir, TMPDIR=workdir)
    tempfile.tempdir = None  # read TMPDIR again
    os.setpgid(0, 0)  # the keeper signals the whole task tree, as the supervisor would (os.killpg)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a task never outlives its keeper...
    if os.getppid() != keeper:  # ...even one that died before the line above
        os._exit(125)
    _prctl(PR_SET_DUMPABLE, 1)  # the task's own process is the task's (py-spy, core dumps); the server is not
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    from airflow.sdk.execution_time.supervisor import _child_exec_main

    _child_exec_main()  # never returns: it exits the process


def _keep(conn: socket.socket, fds: list, work_root: str) -> None:
    """In the keeper process: fork the task, relay signals to it, report how it ended."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _set_title("airflow-task keeper")
    workdir = tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=work_root)
    keeper = os.getpid()
    try:
        pid = os.fork()
        if pid == 0:
            conn.close()
            try:
                _run_task(fds, workdir, keeper)
            finally:
                os._exit(124)
        try:
            os.setpgid(pid, pid)  # as the child does: a signal relayed before the child ran still finds its group
        except OSError:
            pass
        for fd in fds:
            os.close(fd)
        _relay(conn, pid)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _relay(conn: socket.socket, pid: int) -> None:
    pidfd = os.pidfd_open(pid)
    pending = b""
    while True:
        ready, _, _ = select.select([conn, pidfd], [], [])
        if pidfd in ready:
            _, status = os.waitpid(pid, 0)
            try:
                conn.sendall(STATUS.pack(status))
            except OSError:
                pass
            return
        try:
            data = conn.recv(64)
        except OSError:
            data = b""
        if not data:
            # The launcher is gone (killed with its worker, or SIGKILLed by the supervisor): so is the task.
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return
        pending += data
        while len(pending) >= STATUS.size:
            (signum,), pending = STATUS.unpack(pending[: STATUS.size]), pending[STATUS.size:]
            if signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGHUP, signal.SIGQUIT,
                          signal.SIGUSR1, signal.SIGUSR2):
                try:
                    os.killpg(pid, signum)
                except ProcessLookupError:
                    pass


def _remove_orphaned_work(work_root: str) -> None:
    """The folders of keepers that are gone (killed before they could clean up): named <keeper pid>-..."""
    for name in os.listdir(work_root):
        pid = name.split("-", 1)[0]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(os.path.join(work_root, name), ignore_errors=True)


def serve(listener: socket.socket, work_root: str) -> None:
    # Keepers are reaped by the kernel: the server never waits for one.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        conn, _ = listener.accept()
        try:
            fds = _receive(conn)
        except (OSError, ValueError) as exc:
            _log(f"refused a connection: {exc}")
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            try:
                _keep(conn, fds, work_root)
            except BaseException as exc:  # noqa: BLE001 - the keeper must always exit, never return here
                _log(f"keeper failed: {exc!r}")
            finally:
                os._exit(0)
        conn.close()
        for fd in fds:
            os.close(fd)


def main() -> None:
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        raise SystemExit("airflow-task-forkserver: start me through airflow-task-forkserver.socket (one socket)")
    if len(sys.argv) < 2 or not os.path.isabs(sys.argv[1]):
        raise SystemExit("usage: forkserver.py WORK_DIR [MODULE ...]")
    work_root, preload = sys.argv[1], sys.argv[2:]
    os.makedirs(work_root, mode=0o700, exist_ok=True)
    _remove_orphaned_work(work_root)
    listener = socket.socket(fileno=SYSTEMD_FIRST_FD)
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)  # tasks must not think they were socket-activated
    _warm_up(preload)
    if threading.active_count() != 1:
        # fork() copies one thread; a lock another thread held would stay locked in every task.
        raise SystemExit(f"airflow-task-forkserver: the warm-up left {threading.active_count()} threads running")
    # Everything loaded so far lives as long as the server: keep the collector from touching it in every task
    # (each touched page is copied into the task; without this a trivial task cost twice the CPU, measured).
    gc.collect()
    gc.freeze()
    # No other process of the task user (a task) may read or trace this one and change what later tasks run.
    _prctl(PR_SET_DUMPABLE, 0)
    _set_title("airflow-task-forkserver")
    _log(f"ready: {len(sys.modules)} modules loaded")
    serve(listener, work_root)


if __name__ == "__main__":
    main()
