"""One router per resource.

These modules, ``api/deps.py``, ``api/guards.py`` and ``api/console.py`` do not use
``from __future__ import annotations``: FastAPI reads every endpoint's and every
dependency's signature once per route for each app it serves, and string annotations
make it evaluate each of them again there (about a third of what an app's first request
cost; docs/decisions.md). ``tests/test_architecture.py`` keeps them objects.
"""
