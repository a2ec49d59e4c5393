"""Loading many reports at once: an archive, years of history, a benchmark's data set.

:func:`load_reports` writes batches of reports through the node's own write
path (:func:`sitcen.store.events.report_events`: checks, placement, bodies,
journal) with the events table's secondary indexes set aside for the load and
built again after it, which is several times faster than maintaining them row
by row once the table holds millions of events. Queries during the load are
slow (no indexes); a node serves nothing from a table being loaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime

import sqlalchemy as sa

from sitcen.events import EventCreate
from sitcen.store import schema
from sitcen.store.events import Reporter, report_events


@contextlib.contextmanager
def deferred_indexes(engine: sa.Engine, table: sa.Table) -> Iterator[None]:
    """Drop the secondary indexes of ``table`` (as ``schema.py`` declares them) and build
    them again on leaving, also when the load fails part way."""
    indexes = sorted(table.indexes, key=lambda ix: str(ix.name))
    with engine.begin() as conn:
        for index in indexes:
            index.drop(conn, checkfirst=True)
    try:
        yield
    finally:
        with engine.begin() as conn:
            for index in indexes:
                index.create(conn, checkfirst=True)


def load_reports(engine: sa.Engine, reporter: Reporter,
                 batches: Iterable[Sequence[EventCreate]], *, now: datetime | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write every batch of reports (up to 10,000 each) as the batch API would; the count.

    Each batch is one transaction, checked and placed like any other report;
    the events indexes are built once, at the end. ``progress`` is called with
    the number written so far after each batch.
    """
    written = 0
    with deferred_indexes(engine, schema.events):
        for items in batches:
            written += len(report_events(engine, reporter, items, batch=True, now=now))
            if progress is not None:
                progress(written)
    return written
