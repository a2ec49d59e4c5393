"""The running node as the API sees it: settings, database and reference data."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from sitcen.geo import SectionIndex
from sitcen.settings import Settings
from sitcen.store.engine import open_engine
from sitcen.store.events import Reporter
from sitcen.store.sections import ensure_sections, section_index


@dataclass
class Node:
    """One sitcen node: what every request handler needs, created once at start-up."""

    settings: Settings
    engine: sa.Engine
    sections: SectionIndex
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, settings: Settings, engine: sa.Engine | None = None) -> Node:
        """Open (and migrate) the node's database and load its border sections."""
        engine = engine or open_engine(settings.resolved_database_url)
        ensure_sections(engine)
        return cls(settings, engine, section_index(engine))

    def reload_sections(self) -> None:
        """Rebuild the section index after the sections changed."""
        index = section_index(self.engine)
        with self._lock:
            self.sections = index

    @property
    def reporter(self) -> Reporter:
        """The identity and reference data new reports are written with."""
        s = self.settings
        return Reporter(
            node_id=s.node_id,
            country=s.node_country,
            sections=self.sections,
            max_km=s.section_max_km,
            clock_skew=timedelta(seconds=s.clock_skew_s),
        )
