"""Analysis: pure functions over tables (DESIGN.md principle 6); no I/O, no store, no HTTP."""
