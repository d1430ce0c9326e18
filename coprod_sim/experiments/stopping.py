"""How a sweep stops: Ctrl-C and SIGTERM, and worker processes that end with their sweep.

* The first Ctrl-C (SIGINT) or SIGTERM stops a sweep gracefully: no new run starts, runs in
  flight are abandoned (they run again on resuming), finished runs are written, and the
  pool's processes are ended before the sweep returns.
* A second one stops at once: nothing more is written (a part being written is left as a
  ``*.tmp``, which the next resume deletes), the pool's processes are killed, and
  ``KeyboardInterrupt`` leaves the sweep.
* If the sweep itself is killed (``kill -9``), its local pool goes with it: the forkserver and
  each worker ask Linux to kill them when their parent dies (``PR_SET_PDEATHSIG``), and the
  resource tracker ends when the last of them has gone.

Signal handlers can only be set in the main thread; elsewhere (the app's threads) a sweep
is stopped by its caller, and none of this is installed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator

#: Set (to the sweep's process id) while the local pool's forkserver starts, so that the
#: forkserver, on importing this module, knows to die with that process.
PARENT_VARIABLE = "COPROD_SIM_POOL_PARENT"
_PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))


def _forkserver_lifeline() -> None:
    """In the forkserver of a sweep's pool (started with :data:`PARENT_VARIABLE` set): die with
    the sweep, and do not start at all if the sweep has already gone."""
    parent = os.environ.get(PARENT_VARIABLE, "")
    if not parent.isdigit() or int(parent) == os.getpid():
        return
    die_with_parent()
    if os.getppid() != int(parent):  # the sweep died before the request was made
        os._exit(1)


def worker_initializer() -> None:
    """Each local worker: Ctrl-C is the sweep's to handle, not the worker's (a terminal sends
    it to the whole process group); and the worker dies with the forkserver, its parent.

    SIGTERM keeps its default: the pool itself ends workers with it when one has died.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


@contextlib.contextmanager
def forkserver_environment() -> Iterator[None]:
    """While the local pool's forkserver starts: it ignores Ctrl-C (the sweep decides) and
    learns whose lifeline it is on."""
    previous_variable = os.environ.get(PARENT_VARIABLE)
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, previous)
        if previous_variable is None:
            os.environ.pop(PARENT_VARIABLE, None)
        else:
            os.environ[PARENT_VARIABLE] = previous_variable


@contextlib.contextmanager
def blocked(signals: tuple[signal.Signals, ...]) -> Iterator[None]:
    """Hold ``signals`` (delivered when the block ends) around a step that must not be cut
    short, such as ending worker processes or removing a staging folder."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


#: Set once a sweep in this process has been asked to stop: the ``coprod`` command then
#: ignores further signals while it reports and exits (a sweep's own handler has gone).
STOPPED_IN_THIS_PROCESS = threading.Event()


class Stop:
    """Ctrl-C and SIGTERM while a sweep runs (see the module docstring).

    Use it as a context manager around the sweep; :meth:`deferred` around a write holds the
    first signal until the write is done (a second still stops at once).
    """

    def __init__(self) -> None:
        self.received: list[str] = []
        self._deferring = 0
        self._previous: dict[int, object] = {}

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for."""
        return bool(self.received)

    @property
    def at_once(self) -> bool:
        """Whether a second signal asked to stop at once (write nothing more)."""
        return len(self.received) > 1

    @property
    def reason(self) -> str:
        """The first signal, as the user knows it: "Ctrl-C" or "SIGTERM"."""
        first = self.received[0] if self.received else "SIGINT"
        return "Ctrl-C" if first == "SIGINT" else first

    def __enter__(self) -> Stop:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in STOP_SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous = {}

    def _handle(self, number: int, frame: object) -> None:
        self.received.append(signal.Signals(number).name)
        STOPPED_IN_THIS_PROCESS.set()
        if self.at_once or not self._deferring:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold a first signal until the block ends, so a write is neither cut short nor
        done twice; then raise it."""
        before = len(self.received)
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
        if len(self.received) > before and not self._deferring:
            raise KeyboardInterrupt


# The forkserver imports the engine (its preload), and so this module: that is where it
# takes its lifeline. Anywhere else the variable is unset, or names this very process.
_forkserver_lifeline()
