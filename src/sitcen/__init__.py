"""sitcen: an open situation-centre platform for integrated border management."""

__version__ = "0.1.0"
