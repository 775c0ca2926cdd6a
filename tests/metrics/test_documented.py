"""docs/operations.md lists exactly the series the code exports; the dashboard charts only those."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY, generate_latest

from rooms.metrics import web
from rooms.metrics import worker as worker_metrics
from tests.metrics.support import ROOT

_NAME = re.compile(r"videoroom_[a-z_]+[a-z]")


def exported() -> set[str]:
    web.install()
    worker_metrics._install()
    text = generate_latest(REGISTRY).decode()
    types = re.findall(r"^# TYPE (videoroom_\S+) (\S+)$", text, flags=re.M)
    return {name for name, _ in types if not name.endswith("_created")}


def test_every_exported_series_is_documented_and_nothing_else() -> None:
    docs = set(_NAME.findall((ROOT / "docs" / "operations.md").read_text()))
    assert docs == exported()


def test_the_dashboard_charts_exported_series_only() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "videoroom.json").read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {re.sub(r"_(bucket|sum|count)$", "", n) for e in expressions for n in _NAME.findall(e)}
    assert used <= exported(), used - exported()
    assert len(used) >= 12
