"""Defect 1 of issue 19: something on the EKS stacks reads the apps' monitors and rules, alerts
reach a receiver whose credential stays secret, and the seed's dashboard exists as code."""

import json

import pulumi
import pytest

from tests.model_errors import rejects
from webplatform import testing
from webplatform.cluster.monitoring_stack import (
    RECEIVER_SECRET,
    AlertReceiver,
    MonitoringSettings,
    MonitoringStack,
    MonitoringStackArgs,
)
from webplatform.guardrails.dashboard import dashboard, dashboard_json, route_cluster

CANARY = "https://hooks.slack.com/services/T0/B0/canary-9d1"


def build(kind="slack", **receiver):
    def program():
        MonitoringStack(
            "monitoring",
            MonitoringStackArgs(
                version="88.6.4",
                receiver=AlertReceiver(kind=kind, credential="alertsUrl", **receiver),
                credential=pulumi.Output.secret(CANARY),
            ),
        )

    return testing.run(program)


def test_the_chart_is_pinned_and_brings_the_operator_crds():
    release = build().one("kubernetes:helm.sh/v3:Release").inputs
    assert release["chart"] == "kube-prometheus-stack"
    assert release["version"] == "88.6.4"
    assert release["repositoryOpts"]["repo"] == "https://prometheus-community.github.io/helm-charts"
    assert release["name"] == "kube-prometheus-stack"  # the apps' release: label matches it
    assert release["values"]["crds"]["enabled"] is True


def test_alerts_go_to_the_receiver_and_the_credential_only_to_a_secret():
    rec = build(channel="#alerts")
    values = rec.one("kubernetes:helm.sh/v3:Release").inputs["values"]
    config = values["alertmanager"]["config"]
    assert config["route"]["receiver"] == "slack"
    (slack,) = next(r for r in config["receivers"] if r["name"] == "slack")["slack_configs"]
    assert slack["channel"] == "#alerts"
    assert slack["api_url_file"] == f"/etc/alertmanager/secrets/{RECEIVER_SECRET}/credential"
    assert values["alertmanager"]["alertmanagerSpec"]["secrets"] == [RECEIVER_SECRET]
    secret = rec.one("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == RECEIVER_SECRET
    assert secret.is_secret("stringData.credential")
    for r in rec.resources:
        if r is not secret:
            assert CANARY not in json.dumps(r.inputs), r.urn


@pytest.mark.parametrize(
    ("kind", "key", "field"),
    [
        ("pagerduty", "pagerduty_configs", "routing_key_file"),
        ("webhook", "webhook_configs", "url_file"),
    ],
)
def test_other_receivers_read_their_credential_from_the_file(kind, key, field):
    values = build(kind).one("kubernetes:helm.sh/v3:Release").inputs["values"]
    receiver = next(r for r in values["alertmanager"]["config"]["receivers"] if r["name"] == kind)
    assert receiver[key][0][field].endswith("/credential")


def test_prometheus_keeps_its_data_on_an_encrypted_auto_mode_volume():
    rec = build()
    storage = rec.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs
    assert storage["provisioner"] == "ebs.csi.eks.amazonaws.com"
    assert storage["parameters"] == {"type": "gp3", "encrypted": "true"}
    spec = rec.one("kubernetes:helm.sh/v3:Release").inputs["values"]["prometheus"]["prometheusSpec"]
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == storage["metadata"]["name"]
    assert spec["retention"] == "15d"


def test_bad_receiver_settings_name_the_key():
    rejects(
        MonitoringSettings,
        {
            "version": "88.6.4",
            "receiver": {"kind": "pagerduty", "credential": "k", "channel": "#a"},
        },
        "receiver.channel",
        "only with kind slack",
    )
    rejects(
        MonitoringSettings,
        {"version": "88.6.4", "receiver": {"kind": "email", "credential": "k"}},
        "receiver.kind",
        "",
    )


def test_the_dashboard_is_valid_json_with_the_seeds_panels():
    model = json.loads(dashboard_json("web", "web-production", ("web-blue", "web-green"), "web"))
    titles = [p["title"] for p in model["panels"]]
    assert titles == [
        "Request rate",
        "Error rate (5xx)",
        "Latency",
        "CPU per pod",
        "Memory per pod",
        "Available pods per colour",
    ]
    assert len({p["id"] for p in model["panels"]}) == len(titles)
    cluster = route_cluster("web-production", "web")
    for panel in model["panels"][:3]:
        assert all(cluster in t["expr"] for t in panel["targets"])
    colours = model["panels"][5]["targets"][0]["expr"]
    assert 'deployment=~"web-blue|web-green"' in colours
    assert {t["legendFormat"] for t in model["panels"][2]["targets"]} == {"p50", "p95", "p99"}


def test_without_a_route_the_dashboard_has_no_request_panels():
    titles = [p["title"] for p in dashboard("jobs", "ns", ("jobs",), None)["panels"]]
    assert titles == ["CPU per pod", "Memory per pod", "Available pods per colour"]
