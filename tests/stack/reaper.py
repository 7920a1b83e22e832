"""Run a server command as a child subreaper, so that stopping it leaves no process behind.

Usage: python reaper.py COMMAND [ARGS...]

Postfix's master puts itself into a session of its own and, on SIGTERM, signals its
children and exits without waiting for them; its children would then become orphans (and,
in containers whose PID 1 does not reap, zombies). As a subreaper this process adopts every
orphan of the command's tree and reaps it. On SIGTERM or SIGINT it terminates the whole
tree (SIGKILL after a grace period) and exits when no descendant is left. It also exits,
with the command's status, when the whole tree has ended on its own, and it stops the tree
when the process that started it dies (its pid is expected in $INBOXBRIDGE_REAPER_PARENT).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from types import FrameType

PR_SET_CHILD_SUBREAPER = 36
PARENT_POLL_SECONDS = 0.5
PARENT_ENV = "INBOXBRIDGE_REAPER_PARENT"
GRACE_SECONDS = 3.0


class _Stop(Exception):
    pass


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _watch_parent(parent: int) -> None:
    """If the test run dies without stopping us (SIGKILL, crash), take the servers down too.

    Polling getppid() rather than PR_SET_PDEATHSIG, which fires when the starting *thread*
    ends, not the process.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _children() -> list[int]:
    """Direct children of this process (adopted orphans included)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Zombies count too: they are reaped on the next round, not left for init.
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _reap(main_pid: int, status: list[int]) -> None:
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == main_pid:
            status.append(os.waitstatus_to_exitcode(code))


def _terminate_tree(main_pid: int, status: list[int]) -> None:
    deadline = time.monotonic() + GRACE_SECONDS
    signalled: set[int] = set()
    while True:
        _reap(main_pid, status)
        children = _children()
        if not children:
            return
        late = time.monotonic() > deadline
        for pid in children:
            if (late or pid not in signalled) and not _is_zombie(pid):
                try:
                    os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
                except ProcessLookupError:
                    pass
                signalled.add(pid)
        time.sleep(0.01)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed", file=sys.stderr)
    parent = os.environ.get(PARENT_ENV)
    if parent:
        threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    # Held back until the try below, so a stop request can never land half-way.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    status: list[int] = []
    main_pid = os.posix_spawnp(argv[0], argv, os.environ, setsigmask=())
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop_signals)
        while True:
            try:
                pid, code = os.wait()
            except ChildProcessError:
                break  # the whole tree ended on its own
            if pid == main_pid:
                status.append(os.waitstatus_to_exitcode(code))
    except _Stop:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _terminate_tree(main_pid, status)
        return 0
    return status[0] if status else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
