"""The demo: a synthetic scenario with ground truth, demo patrols and capacities, seeding,
and the shift's work at the demo node.

Only the ``demo`` and ``seed`` commands of the CLI import this package (and
tests, benchmarks and scripts, which live outside it); no production module
depends on the demo.
"""
