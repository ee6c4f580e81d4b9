"""Reproduction harness of the ART paper's experiment (Table 1) and ablations.

Entry points: ``python -m benchmarks.paper.run`` (Table 1) and
``python -m benchmarks.paper.ablations`` (sweeps on Pima). See
``docs/benchmarks.md``.
"""
