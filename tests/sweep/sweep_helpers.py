"""Shared pieces of the sweep tests."""

#: A Song (2000) network small and short enough for tests (~0.3 s per point on numpy).
TINY_NETWORK = """
[target]
network = "song2000"
backend = "numpy"
[fixed]
"run.duration" = "0.2 s"
"record.state" = []
"populations.inputs.n" = 200
"projections.ff.weight_scale" = "0.5 nS"
"""
