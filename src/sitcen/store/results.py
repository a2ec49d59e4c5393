"""The analysis results cache: named JSON results every process of a node reads.

The risk table and each section's risk detail are computed by one process
(under a lease) and kept in ``analysis_results``, so that every app process
serves the same table without recomputing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import sqlalchemy as sa

from sitcen.store import schema
from sitcen.store.journal import now_micros
from sitcen.store.sql import select_value


def store_results(engine: sa.Engine, results: Mapping[str, Mapping[str, Any]], *,
                  computed_at: int | None = None, replace_prefix: str | None = None) -> None:
    """Replace cached results by name, in one transaction.

    ``replace_prefix`` also drops every older result whose name starts with it
    (the details of sections that are no longer in the table).
    """
    t = schema.analysis_results
    stamp = computed_at or now_micros()
    option = orjson.OPT_SERIALIZE_NUMPY
    rows = [{"name": name, "computed_at": stamp,
             "body": orjson.dumps(dict(body), option=option).decode()}
            for name, body in results.items()]
    with engine.begin() as conn:
        conn.execute(t.delete().where(t.c.name.in_(list(results))))
        if replace_prefix is not None:
            conn.execute(t.delete().where(t.c.name.startswith(replace_prefix, autoescape=True)))
        if rows:
            conn.execute(t.insert(), rows)


def result_age_s(engine: sa.Engine, name: str) -> float | None:
    """Seconds since the cached result ``name`` was computed (None: never)."""
    t = schema.analysis_results
    at = select_value(engine, t.c.computed_at, t.c.name == name)
    return None if at is None else max(0.0, (now_micros() - int(at)) / 1e6)


def load_result(engine: sa.Engine, name: str) -> dict[str, Any] | None:
    """The cached result ``name``, or None when it was never computed."""
    t = schema.analysis_results
    text = select_value(engine, t.c.body, t.c.name == name)
    return None if text is None else dict(orjson.loads(text))
