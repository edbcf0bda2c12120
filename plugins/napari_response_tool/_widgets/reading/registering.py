"""Registering a follow-up to the baseline without freezing the viewer.

The core's :func:`response_tool.reading.propagation.register_followup` takes some 3–10 s a study
(SimpleITK, which releases the GIL while it works). :class:`Registrar` runs it in a napari thread
worker as soon as a follow-up and the baseline are both loaded; the result is saved with the read
on the UI thread (the store's SQLite connection belongs to it), the panes are laid out again (the
prior is shifted onto the same anatomy) and whoever was waiting for it — a "go to predicted"
pressed meanwhile — is called.

Scripts and the demo, which have no event loop of their own, call :meth:`Registrar.wait` (the
panel's ``hanging.ensure_registration``): the same worker, with Qt's events processed until it
is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from response_tool.domain.errors import ResponseToolError
from response_tool.domain.vocabulary import Phase

if TYPE_CHECKING:
    from .panel import ReadingPanel

#: the longest :meth:`Registrar.wait` waits for a registration (s)
WAIT_S = 120.0


def registration_volume(volumes: dict[str, Any]) -> Any:
    """The series a study is registered on: portal-venous, else arterial (None: neither)."""
    return volumes.get(Phase.PORTAL_VENOUS) or volumes.get(Phase.ARTERIAL)


class Registrar:
    """Background registrations of one Reading panel's read (see the module docstring)."""

    def __init__(self, panel: ReadingPanel) -> None:
        self.panel = panel
        #: follow-up date → its running worker (and the read it is for)
        self.running: dict[str, Any] = {}
        self._for: dict[str, Any] = {}
        #: follow-up date → what to call once its registration is saved
        self._then: dict[str, list[Callable[[], Any]]] = {}
        #: follow-up date → seconds the last registration took
        self.seconds: dict[str, float] = {}
        #: the thread each registration ran on (tests: never the UI thread)
        self.threads: dict[str, str] = {}
        #: the panel was closed: a registration that finishes later is dropped (this object,
        #: not the panel, gets the panel's ``destroyed``: Qt does not call a slot of the widget
        #: being destroyed)
        self.closed = False
        panel.destroyed.connect(self._close)

    def _close(self, *_args: Any) -> None:
        """The panel (its viewer) closed: a running registration cannot be interrupted (it is
        inside SimpleITK), so closing waits for it (seconds) rather than leave a thread that
        outlives the application and takes it down at exit."""
        self.closed = True
        self._then.clear()
        if self.running:
            from qtpy.QtCore import QThreadPool

            QThreadPool.globalInstance().waitForDone(int(WAIT_S * 1000))

    def start(self, date: str, then: Callable[[], Any] | None = None) -> bool:
        """Register the follow-up at ``date`` in the background unless it has a registration or
        one is running; ``then()`` is called once it is saved (at once when it already is).
        False when nothing runs: the baseline, no read, or the images are not loaded yet."""
        session = self.panel.session
        if session is None or date == session.baseline or date not in session.dates \
                or not hasattr(session, "save_registration"):
            return False
        if date in self.running:
            if self._for.get(date) != session.key:  # another read's, still running: this read's
                return False                        # starts when the panes are laid out again
            if then is not None:
                self._then.setdefault(date, []).append(then)
            return True
        if session.registration(date) is not None:
            if then is not None:
                then()
            return False
        hanging = self.panel.hanging
        base = registration_volume(hanging.volumes(session.baseline))
        follow = registration_volume(hanging.volumes(date))
        if base is None or follow is None:
            return False
        from napari.qt.threading import thread_worker

        from response_tool.reading.propagation import register_followup

        def work() -> Any:
            import threading

            t0 = time.perf_counter()
            reg = register_followup(base, follow)
            return reg, time.perf_counter() - t0, threading.current_thread().name

        key = session.key
        worker = thread_worker(work, start_thread=False)()
        worker.returned.connect(lambda out: self._done(key, date, *out))
        worker.errored.connect(lambda exc: self._failed(date, exc))
        worker.finished.connect(lambda: self.running.pop(date, None))
        self.running[date], self._for[date] = worker, key
        if then is not None:
            self._then.setdefault(date, []).append(then)
        self.panel.say(f"registering {date} to the baseline in the background … (the prediction "
                       "of each lesion's position follows)")
        worker.start()
        return True

    def _done(self, key: Any, date: str, registration: Any, seconds: float, thread: str) -> None:
        self.seconds[date], self.threads[date] = seconds, thread
        if self.closed:  # the viewer was closed while it ran: nothing left to show it in
            return
        session = self.panel.session
        if session is None or session.key != key:  # another read opened meanwhile: not ours
            return
        waiting = self._then.pop(date, [])
        if session.registration(date) is None:
            try:
                session.save_registration(date, registration)
            except ResponseToolError as exc:  # the read changed in another window meanwhile
                self.panel.say(f"{date}: the registration was not saved — {exc}")
                return
        # (the session announces the saved registration: the prior pane moves onto the same
        # anatomy, HangingProtocol.on_registration)
        self.panel.say(f"{date} registered to the baseline in {seconds:.1f} s "
                       f"({registration.method})")
        for call in waiting:
            call()

    def _failed(self, date: str, exc: BaseException) -> None:
        self._then.pop(date, None)
        if self.closed:
            return
        self.panel.say(f"{date}: registration failed ({exc}); lesions are predicted at their "
                       "prior position — correct it with one click (Correct position)")

    def wait(self, date: str, timeout_s: float = WAIT_S) -> Any:
        """Start the registration of ``date`` if needed and process Qt events until it is saved;
        returns it (None when it cannot run or failed)."""
        from qtpy.QtWidgets import QApplication

        self.start(date)
        end = time.perf_counter() + timeout_s
        while date in self.running and time.perf_counter() < end:
            QApplication.processEvents()
            time.sleep(0.005)
        QApplication.processEvents()
        session = self.panel.session
        return None if session is None else session.registration(date)
