"""Operating videoroom: Prometheus metrics, health checks, live figures and JSON logs.

``web`` and ``worker`` declare the metrics of each process kind, ``http`` serves them
on a port of their own, ``health`` answers readiness, ``sampling`` reads a worker's
media counters at scrape time, ``figures`` carries per-participant figures to the
admin, ``logs`` formats log records as JSON. docs/operations.md documents them.
"""
