"""Analysis: pure functions over tables (docs/architecture.md, principle 6); no I/O or HTTP."""
