"""Real parts for tests, benchmarks and scripts: ports, waiting, servers, clusters, node processes.

One copy of each, importable from the test suite, ``benchmarks/`` and
``scripts/`` alike (datasette's ``fixtures.py`` habit), every name from
``sitcen.testing`` itself; the modules say which job each part does:

- :mod:`~sitcen.testing.serving`: :func:`free_port`, :func:`free_port_range` and
  :func:`wait_until` (wait on a condition, never a fixed sleep);
  :func:`serve_in_thread` (a node's app on a free loopback port in this process) and
  :func:`receive_posts` (a webhook receiver of the outside world);
- :mod:`~sitcen.testing.directory`: :func:`mock_issuer`, an OpenID Connect directory
  (:class:`MockIssuer`) to log in through;
- :mod:`~sitcen.testing.browser`: :func:`chromium` (Debian's, through Playwright),
  :func:`console_missing` and :func:`emulate_link`: the console in a real browser;
- :mod:`~sitcen.testing.reports`: :func:`seizure_report`, a valid report to send, and
  :func:`fill_report_form`, the same typed into the console;
- :mod:`~sitcen.testing.services`: :class:`PostgresCluster`, a throwaway PostgreSQL
  server started with ``initdb``/``pg_ctl`` in a temporary directory (as the
  ``postgres`` user when run as root), and :func:`mosquitto`, a throwaway MQTT broker;
- :mod:`~sitcen.testing.processes`: :func:`start_server` and :func:`stop_process`, any
  ``sitcen`` command that serves (``serve``, ``demo``), up once it answers its health
  check; :class:`NodeProcess`, one ``sitcen serve`` process with its own environment;
  :func:`certificates` for one serving HTTPS;
- :mod:`~sitcen.testing.authorisation`: :func:`authorisation_matrix`, which roles pass
  each operation;
- :mod:`~sitcen.testing.schemas`: :func:`load_schema_fixture` and :func:`schema_shape`: a
  database of an earlier schema (tests/data/schemas/, scripts/make_schema_fixture.py) and
  what a database's schema is.

Nothing here is used by a running node, and nothing here needs pytest.
"""

from sitcen.testing.authorisation import authorisation_matrix
from sitcen.testing.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    POOR_LINK,
    Link,
    chromium,
    console_missing,
    emulate_link,
)
from sitcen.testing.directory import MockIssuer, mock_issuer
from sitcen.testing.processes import (
    START_TIMEOUT_S,
    NodeProcess,
    certificates,
    clean_environment,
    start_server,
    stop_process,
)
from sitcen.testing.reports import fill_report_form, seizure_report
from sitcen.testing.schemas import (
    SchemaShape,
    load_schema_fixture,
    schema_fixture_statements,
    schema_shape,
)
from sitcen.testing.services import (
    FAST_UNSAFE,
    Broker,
    PostgresCluster,
    mosquitto,
    mosquitto_missing,
    postgres_bin_dir,
    postgres_binaries_missing,
    postgres_cluster,
)
from sitcen.testing.serving import (
    ServedNode,
    free_port,
    free_port_range,
    receive_posts,
    serve_app_in_thread,
    serve_in_thread,
    wait_until,
)

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "FAST_UNSAFE", "POOR_LINK", "START_TIMEOUT_S", "Broker",
    "Link", "MockIssuer", "NodeProcess", "PostgresCluster", "SchemaShape", "ServedNode",
    "authorisation_matrix", "certificates", "chromium", "clean_environment", "console_missing",
    "emulate_link", "fill_report_form", "free_port", "free_port_range", "load_schema_fixture",
    "mock_issuer", "mosquitto", "mosquitto_missing", "postgres_bin_dir",
    "postgres_binaries_missing", "postgres_cluster", "receive_posts", "schema_fixture_statements",
    "schema_shape", "seizure_report", "serve_app_in_thread", "serve_in_thread", "start_server",
    "stop_process", "wait_until",
]
