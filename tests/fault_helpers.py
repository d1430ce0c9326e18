"""Helpers for the fault-injection tests: a command in a private mount namespace, so that a
test can give it a small disk or a read-only folder without touching the machine's mounts.

As root, ``chmod`` cannot make a folder read-only (root writes anyway), and a full disk cannot
be had without a mount. ``unshare --map-root-user --mount`` gives the command its own view of
the file system: a tmpfs of a few hundred kilobytes over its output folder, or a read-only
bind of a folder that already holds results. The mounts vanish with the command.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

COPROD = [sys.executable, "-m", "coprod_sim.cli"]


@functools.cache
def mounts_unavailable() -> str | None:
    """Why a private mount namespace cannot be had here, or None if it can."""
    if shutil.which("unshare") is None:
        return "no unshare command (util-linux) on this machine"
    probe = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs -o size=64k t /mnt"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"no private mount namespace: {probe.stderr.strip() or probe.returncode}"
    return None


def _script(setup: list[str], command: Sequence[str]) -> list[str]:
    body = " && ".join([*setup, "exec " + shlex.join(command)])
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", body]


def on_small_disk(
    command: Sequence[str], folder: Path, size: str = "256k", **kwargs
) -> subprocess.CompletedProcess:
    """Run ``command`` with a fresh tmpfs of ``size`` mounted on ``folder`` (created here):
    whatever it writes there fills the disk after ``size``."""
    folder.mkdir(parents=True, exist_ok=True)
    setup = [f"mount -t tmpfs -o size={size} coprod-small-disk {shlex.quote(str(folder))}"]
    return _run(_script(setup, command), **kwargs)


def on_read_only(command: Sequence[str], folder: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command`` with ``folder`` (and all below it) read-only, as it is now."""
    where = shlex.quote(str(folder))
    setup = [f"mount --bind {where} {where}", f"mount -o remount,bind,ro {where}"]
    return _run(_script(setup, command), **kwargs)


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    env = {**os.environ, "COLUMNS": "200", **kwargs.pop("env", {})}
    return subprocess.run(args, env=env, **kwargs)
