"""The Grafana dashboard shows figures the site really exports, through the data source the
provisioning defines."""

import json
import re
from datetime import timedelta

import yaml
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from exports.models import SignatoryExport
from tests.conftest import ROOT
from tests.factories import SignatureFactory

DASHBOARD = ROOT / "deploy/grafana/dashboards/petition.json"
DATASOURCES = ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml"
METRIC = re.compile(r"\bpetition_[a-z_]+\b")


def panels() -> list[dict]:
    return [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]


def test_every_panel_queries_metrics_the_site_exports(statement, broker_url):
    SignatureFactory(statement=statement)
    now = timezone.now()
    SignatoryExport.objects.create(
        statement=statement,
        format="csv",
        state="done",
        started_at=now - timedelta(seconds=4),
        finished_at=now,
        expires_at=now + timedelta(days=7),
    )
    Client().get("/")
    scraped = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    exported = {
        sample.name
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    queried = set()
    for panel in panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"]))
            assert names, (panel["title"], target["expr"])
            queried |= names
    missing = queried - exported
    assert not missing, f"the dashboard queries what /metrics does not hold: {sorted(missing)}"
    # And it shows each figure the site exports.
    assert {name.removesuffix("_bucket") for name in queried} >= {
        "petition_http_requests_total",
        "petition_http_request_duration_seconds",
        "petition_signatures",
        "petition_emails",
        "petition_email_oldest_unsent_age_seconds",
        "petition_celery_queue_length",
        "petition_export_last_duration_seconds",
    }


def test_panels_use_the_provisioned_data_source_and_fit_the_grid():
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
