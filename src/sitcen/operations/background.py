"""Work that one app process of a node does in the background, under a lease.

The notification follower, the validation queue's keeper, the cooperation
watch and the deliverer each follow the journal from a cursor of their own.
Several app processes may serve one node, so each of them runs in whichever
process holds its lease (:mod:`sitcen.store.leases`); the others wait and
take over when the holder dies and its lease expires. :class:`LeasedLoop` is
that loop once: a daemon thread that renews the lease every few seconds, runs
a pass while it holds it, and sleeps until a write on this process wakes it
or the poll interval passes. A failed pass is logged, never fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Self

import sqlalchemy as sa

from sitcen.store.journal import add_write_listener, remove_write_listener
from sitcen.store.leases import acquire, release

log = logging.getLogger("sitcen.operations")

#: Seconds between renewals of the lease, and how long a lease lives unrenewed.
RENEW_EVERY_S = 5.0
LEASE_TTL_S = 30.0


class ThreadWorker:
    """A daemon thread that runs :meth:`_run` until :meth:`stop`; the device listeners' shape.

    A subclass calls ``super().__init__(name)`` (``target`` when the thread runs another
    method), writes ``_run`` to return soon after ``self._stop`` is set, and may extend
    :meth:`start` and :meth:`stop` (a socket to close, a helper to stop with it).
    """

    JOIN_S: ClassVar[float] = 30.0

    def __init__(self, name: str, target: Callable[[], None] | None = None) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=target or self._run, name=name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the thread to end and wait for it (at most ``JOIN_S`` seconds)."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout=self.JOIN_S)

    def _run(self) -> None:
        raise NotImplementedError


@dataclass(eq=False)
class LoopThread:
    """The thread of a :class:`LeasedLoop` and the events that stop and wake it.

    Fields outside ``__init__``: a loop written as a dataclass has them by inheriting
    :class:`LeasedLoop`; one with an ``__init__`` of its own calls ``super().__init__()``.
    """

    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)


class LeasedLoop(LoopThread):
    """A daemon thread running :meth:`work` while this process holds the lease ``LEASE``.

    A subclass sets ``LEASE`` and provides ``engine``, ``holder`` (unique to the
    instance) and ``poll_s`` (its dataclass fields or ``__init__``), and implements
    :meth:`work`.
    """

    LEASE: ClassVar[str]
    #: The shortest time between the starts of two passes that found nothing more to do.
    MIN_GAP_S: ClassVar[float] = 0.05
    engine: sa.Engine
    holder: str
    poll_s: float

    def work(self, moment: float) -> bool:
        """One pass while the lease is held; True when more may be waiting (no pause).

        ``moment`` is :func:`time.monotonic`, for cadences of the pass's own.
        """
        raise NotImplementedError

    def renewed(self, gained: bool) -> None:
        """Called after each renewal of the lease (``gained``: it was not held before)."""

    def wait_s(self) -> float:
        """How long to sleep when nothing wakes the loop (default: ``poll_s``)."""
        return self.poll_s

    def stopped(self) -> None:
        """Called by :meth:`stop` once the thread ended and the lease was given back."""

    def start(self) -> Self:
        """Run in a daemon thread while this process holds the lease."""
        add_write_listener(self._wake.set)
        self._thread = threading.Thread(target=self._loop, name=self.LEASE, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop, wait for the current pass, and give the lease back."""
        self._stop.set()
        self._wake.set()
        remove_write_listener(self._wake.set)
        if self._thread is not None:
            self._thread.join(timeout=30)
        release(self.engine, self.LEASE, self.holder)
        self.stopped()

    def _loop(self) -> None:
        renewed_at = float("-inf")
        holding = False
        while not self._stop.is_set():
            try:
                moment = time.monotonic()
                if moment - renewed_at > RENEW_EVERY_S:
                    was = holding
                    holding = acquire(self.engine, self.LEASE, self.holder, LEASE_TTL_S)
                    renewed_at = moment
                    if holding:
                        self.renewed(not was)
                if holding and self.work(moment) and not self._stop.is_set():
                    continue  # more may be waiting: no pause between full pages
            except Exception:  # the loop must outlive any one failure
                log.exception("background pass %s failed", self.LEASE)
            self._wake.wait(self.wait_s())
            self._wake.clear()
            # Every committed write wakes the loop: while writes stream in (positions from
            # devices, a partner's catch-up), pass at most every MIN_GAP_S, not once per write.
            rest = self.MIN_GAP_S - (time.monotonic() - moment)
            if rest > 0:
                self._stop.wait(rest)


__all__ = ["LEASE_TTL_S", "RENEW_EVERY_S", "LeasedLoop"]
