"""The tables as the code queries them (the current shape after every migration).

Times are integer microseconds since the Unix epoch, UTC, on both backends:
compact, fast to compare and index, and identical in SQLite and PostgreSQL
(docs/decisions.md). Record ids are UUIDs kept as 36-character text.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

UUID_LEN = 36

journal = sa.Table(
    "journal",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(UUID_LEN), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(48), nullable=False),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("occurred_at", sa.BigInteger, nullable=False),
    # Records received from other nodes carry only the fields their agreement
    # grants (a location may be withheld): these columns may be empty for them.
    sa.Column("reported_at", sa.BigInteger),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("cell", sa.Integer),
    sa.Column("section_id", sa.String(64)),
    sa.Column("country", sa.String(2)),
    sa.Column("impact_level", sa.String(16)),
    sa.Column("status", sa.String(16)),
    sa.Column("handling", sa.String(16), nullable=False),
    sa.Column("follow_up_of", sa.String(UUID_LEN)),
    sa.Column("body", sa.Text, nullable=False),
    # For received records: the nodes it came through and the restrictions it
    # travels with (JSON); null for the node's own records.
    sa.Column("provenance", sa.Text),
    sa.Column("sharing", sa.Text),
)

event_versions = sa.Table(
    "event_versions",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

personal_data = sa.Table(
    "personal_data",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(UUID_LEN), nullable=False),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

# Every other kind of record (alerts, confirmed section impact levels,
# capacity inventories, recommendations, actions on events, asset positions,
# requests for information, daily aggregates) shares one table: the journal,
# the federation and the stream treat them alike, and ``subject`` (a section,
# an event, an asset, a peer) is what they are listed by.
records = sa.Table(
    "records",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(128)),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("provenance", sa.Text),
    sa.Column("sharing", sa.Text),
)

record_versions = sa.Table(
    "record_versions",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

# Tombstones of records another node retracted from this one: the record is
# gone, and a late or duplicate delivery of a version up to ``version`` must
# not bring it back. ``provenance`` says which nodes it came through, so the
# retraction is passed on to where it was relayed and never back.
retractions = sa.Table(
    "retractions",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.BigInteger, nullable=False),
)

# Batch ids received within the freshness window, shared by every process of
# the node and kept across restarts, so a replay is refused whichever process
# it reaches (exchange/inbox.py, StoredReplayGuard).
seen_batches = sa.Table(
    "seen_batches",
    metadata,
    sa.Column("sender", sa.String(128), primary_key=True),
    sa.Column("batch_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

border_sections = sa.Table(
    "border_sections",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("name_ru", sa.Text, nullable=False),
    sa.Column("country_a", sa.String(2), nullable=False),
    sa.Column("country_b", sa.String(2), nullable=False),
    sa.Column("length_km", sa.Float, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("geometry", sa.Text, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    # How it was issued ("bearer" from /auth/login, "session" for the console's
    # cookie) and from which address: what a user sees in the list of sessions.
    sa.Column("kind", sa.String(16)),
    sa.Column("address", sa.String(64)),
)

# The audit trail (store/audit.py): numbered without gaps, each entry's hash chained to
# the one before. Local, never replicated, never updated or deleted by the node.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# Legal holds (operations/retention.py): what the retention purge must keep whatever its
# age, until the hold is released. Local, never replicated.
legal_holds = sa.Table(
    "legal_holds",
    metadata,
    sa.Column("id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),  # event, section or kind
    sa.Column("value", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("held_by", sa.String(64), nullable=False),
    sa.Column("held_at", sa.BigInteger, nullable=False),
    sa.Column("released_by", sa.String(64)),
    sa.Column("released_at", sa.BigInteger),
)

# Second factors (store/second_factor.py): a user's TOTP secret, sealed with a key drawn
# from the node's secret_key, and the last time step used (a code works once). Local,
# never replicated.
second_factors = sa.Table(
    "second_factors",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("sealed_secret", sa.Text, nullable=False),
    sa.Column("confirmed", sa.Boolean, nullable=False),
    sa.Column("last_step", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# The journal's epochs (store/epochs.py): a node restored from a backup starts a new epoch
# whose positions lie beyond every position of the earlier ones, so that no cursor a peer or
# a browser holds ever names a position twice. ``recovered_at`` stays empty until the
# records written after the backup were asked back from the linked nodes. Local.
journal_epochs = sa.Table(
    "journal_epochs",
    metadata,
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
    sa.Column("started_at", sa.BigInteger, nullable=False),
    # The backup restored: its manifest as JSON (position, time, checksum).
    sa.Column("backup", sa.Text, nullable=False),
    sa.Column("recovered_at", sa.BigInteger),
    # What the recovery asked of whom and got: JSON, for the administrator.
    sa.Column("recovery", sa.Text),
)

# Answers kept for requests sent with an Idempotency-Key (store/idempotency.py): a client
# that sends a request again after a lost answer (a phone on a poor link) gets the first
# answer instead of a second record. Per user; pending while ``status`` is empty; kept a
# day. Local, never replicated.
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("headers", sa.Text),
    sa.Column("body", sa.LargeBinary),
)

# Failed logins per account ("user:<name>") and per client address
# ("address:<ip>"): the throttle every app process of a node shares
# (store/throttle.py). Local, never replicated; a success clears the keys.
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_at", sa.BigInteger, nullable=False),
    sa.Column("blocked_until", sa.BigInteger, nullable=False),
)

peers = sa.Table(
    "peers",
    metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("relation", sa.String(16), nullable=False),
    sa.Column("agreement_id", sa.String(128)),
    sa.Column("acked_seq", sa.BigInteger, nullable=False),
    sa.Column("received_seq", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
)

# Derived results the node recomputes on a schedule (the risk table): shared by
# every app process, not records (nothing to journal or share; a rerun replaces them).
analysis_results = sa.Table(
    "analysis_results",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("computed_at", sa.BigInteger, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)

# Where each journal follower of the node (notifications, deliveries, the
# validation queue) has got to: its own cursor, resumed after a restart.
cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

# The bytes of attached files, once per content (keyed by SHA-256 of the bytes): images
# already stripped of their metadata, documents as given. ``thumbnail`` is a small JPEG
# made from an image, derived and not shared. Which record a file belongs to is an
# ``attachment`` record; the bytes travel with that record (docs/decisions.md).
files = sa.Table(
    "files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("media_type", sa.String(100), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("thumbnail", sa.LargeBinary),
    sa.Column("created_at", sa.BigInteger, nullable=False),
)

# The validation queue: every stay of a report in a level's queue, as the node's
# queue keeper derives it from the events and the actions it holds
# (operations/chain.py). Derived, like analysis_results: not journaled, not
# shared; rebuilt from the records at any time. The open stays are the queues.
queue_stays = sa.Table(
    "queue_stays",
    metadata,
    sa.Column("event_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("level", sa.String(32), primary_key=True),
    sa.Column("round", sa.Integer, primary_key=True),
    sa.Column("origin", sa.String(64), nullable=False),
    sa.Column("entered_at", sa.BigInteger, nullable=False),
    sa.Column("left_at", sa.BigInteger),
    # waiting, validated, returned, rejected, closed, superseded, interrupted
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("acted_by", sa.String(64)),
    sa.Column("acted_node", sa.String(64)),
    # The action that ended the stay, and its reason (a return, a rejection).
    sa.Column("act_id", sa.String(UUID_LEN)),
    sa.Column("note", sa.Text),
    # 0 for a serious incident (it heads every queue), 1 otherwise.
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("late", sa.Boolean, nullable=False),
    sa.Column("awaiting_correction", sa.Boolean, nullable=False),
)

schema_migrations = sa.Table(
    "schema_migrations",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("applied_at", sa.BigInteger, nullable=False),
)

# Indexes. The (cell, occurred_at) pair answers bbox + time-window queries: a
# bbox becomes a short list of grid cells, each read as one index range in time
# order (store/queries.py). Every index costs ingest speed, so each one here
# serves a query the API offers.
sa.Index("ix_events_cell_time", events.c.cell, events.c.occurred_at, events.c.id)
sa.Index("ix_events_time", events.c.occurred_at, events.c.id)
sa.Index("ix_events_section_time", events.c.section_id, events.c.occurred_at, events.c.id)
# Few events are follow-ups: a partial index costs nothing for the others.
sa.Index(
    "ix_events_follow_up", events.c.follow_up_of,
    sqlite_where=events.c.follow_up_of.isnot(None),
    postgresql_where=events.c.follow_up_of.isnot(None),
)
sa.Index("ix_records_kind_subject", records.c.kind, records.c.subject, records.c.recorded_at)
sa.Index("ix_personal_data_event", personal_data.c.event_id)
sa.Index("ix_tokens_username", tokens.c.username)
# An inspector's questions: what did this person do, and when.
sa.Index("ix_audit_log_actor", audit_log.c.actor, audit_log.c.seq)
sa.Index("ix_audit_log_at", audit_log.c.at)
# A level's queue, serious first then oldest first, read one page at a time.
sa.Index("ix_queue_stays_queue", queue_stays.c.level, queue_stays.c.state,
         queue_stays.c.priority, queue_stays.c.entered_at, queue_stays.c.event_id)
# Time-in-queue statistics over a window.
sa.Index("ix_queue_stays_left", queue_stays.c.left_at)
