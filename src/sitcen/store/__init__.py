"""Storage: schema, migrations, the one write path and the journal, and queries."""
