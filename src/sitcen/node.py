"""The running node as the API sees it: settings, database and reference data."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from sitcen.exchange.identity import IdentityError, NodeIdentity
from sitcen.geo import SectionIndex
from sitcen.settings import Settings
from sitcen.store.engine import open_engine
from sitcen.store.events import Reporter
from sitcen.store.sections import ensure_sections, section_index, sections_fingerprint

# How often a process checks whether another process replaced the sections.
SECTIONS_CHECK_S = 5.0


@dataclass
class Node:
    """One sitcen node: what every request handler needs, created once at start-up."""

    settings: Settings
    engine: sa.Engine
    sections: SectionIndex
    identity: NodeIdentity | None = None
    _fingerprint: tuple[object, ...] = ()
    _checked_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings, engine: sa.Engine | None = None) -> Node:
        """Open (and migrate) the node's database and load its border sections."""
        engine = engine or open_engine(settings.resolved_database_url)
        ensure_sections(engine)
        try:
            identity: NodeIdentity | None = NodeIdentity.load(settings.identity_dir)
        except IdentityError:
            identity = None  # not initialised: the node works, but cannot federate
        node = cls(settings, engine, section_index(engine), identity)
        node._fingerprint = sections_fingerprint(engine)
        node._checked_at = time.monotonic()
        return node

    def reload_sections(self) -> None:
        """Rebuild the section index after the sections changed."""
        fingerprint = sections_fingerprint(self.engine)
        index = section_index(self.engine)
        with self._lock:
            self.sections, self._fingerprint = index, fingerprint
            self._checked_at = time.monotonic()

    def _follow_sections(self) -> None:
        # Several app processes may serve one node: pick up sections that
        # another process replaced, at most SECTIONS_CHECK_S late.
        if time.monotonic() - self._checked_at < SECTIONS_CHECK_S:
            return
        self._checked_at = time.monotonic()
        if sections_fingerprint(self.engine) != self._fingerprint:
            self.reload_sections()

    @property
    def reporter(self) -> Reporter:
        """The identity and reference data new reports are written with."""
        self._follow_sections()
        s = self.settings
        return Reporter(
            node_id=s.node_id,
            country=s.node_country,
            sections=self.sections,
            max_km=s.section_max_km,
            clock_skew=timedelta(seconds=s.clock_skew_s),
        )
