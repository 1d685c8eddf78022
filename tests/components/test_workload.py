import pytest
from pydantic import ValidationError

from tests.model_errors import rejects
from webplatform import (
    Quantities,
    Resources,
    RollingUpdate,
    Workload,
    WorkloadArgs,
    testing,
)

DEPLOY = "kubernetes:apps/v1:Deployment"
RES = Resources(
    requests=Quantities(cpu="250m", memory="256Mi"), limits=Quantities(cpu="500m", memory="512Mi")
)


def args(**overrides):
    base = dict(app="web", namespace="ns", image="ghcr.io/acme/web:1.0.0", port=8080, resources=RES)
    return WorkloadArgs(**{**base, **overrides})


def deploy(**overrides):
    return testing.run(lambda: Workload("web", args(**overrides)))


def pod_spec(rec):
    return rec.one(DEPLOY).inputs["spec"]["template"]["spec"]


def test_restricted_security_context_on_pod_and_container():
    spec = pod_spec(deploy())
    assert spec["automountServiceAccountToken"] is False
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"], pod["fsGroup"]) == (1001, 1001, 1001)
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["privileged"] is False
    assert sc["runAsNonRoot"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_tmp_is_a_writable_empty_dir_because_the_root_filesystem_is_read_only():
    spec = pod_spec(deploy())
    (container,) = spec["containers"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    (volume,) = spec["volumes"]
    assert volume["name"] == "tmp" and volume["emptyDir"]["sizeLimit"] == "64Mi"


def test_probes_follow_reference_001_and_use_separate_paths():
    (container,) = pod_spec(deploy())["containers"]
    live, ready = container["livenessProbe"], container["readinessProbe"]
    assert live["httpGet"] == {"path": "/health", "port": "http"}
    assert (live["initialDelaySeconds"], live["periodSeconds"]) == (30, 10)
    assert ready["httpGet"] == {"path": "/ready", "port": "http"}
    assert (ready["initialDelaySeconds"], ready["periodSeconds"]) == (5, 5)


def test_requests_and_limits_are_always_set():
    (container,) = pod_spec(deploy())["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }


def test_rolling_update_never_drops_below_desired_by_default():
    spec = deploy().one(DEPLOY).inputs["spec"]
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }


def test_own_service_account_without_token_is_created_and_used():
    rec = deploy()
    account = rec.one("kubernetes:core/v1:ServiceAccount")
    assert account.inputs["automountServiceAccountToken"] is False
    assert account.name == "web-service-account"
    assert pod_spec(rec)["serviceAccountName"] == account.inputs["metadata"]["name"] == "web"


def test_given_service_account_is_used_and_none_created():
    rec = deploy(service_account_name="shared")
    assert rec.by_type("kubernetes:core/v1:ServiceAccount") == []
    assert pod_spec(rec)["serviceAccountName"] == "shared"


def test_replicas_none_leaves_the_count_to_an_autoscaler():
    assert "replicas" not in deploy(replicas=None).one(DEPLOY).inputs["spec"]
    assert deploy(replicas=3).one(DEPLOY).inputs["spec"]["replicas"] == 3


def test_selector_is_stable_and_matches_the_pod_labels():
    spec = deploy(extra_labels={"webplatform.io/environment": "dev"}).one(DEPLOY).inputs["spec"]
    selector = spec["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}
    labels = spec["template"]["metadata"]["labels"]
    assert selector.items() <= labels.items()
    assert labels["webplatform.io/environment"] == "dev"


def test_config_checksum_and_env_sources_reach_the_pod():
    rec = deploy(config_map_name="web-config", secret_name="web-secrets", config_checksum="abc")
    spec = rec.one(DEPLOY).inputs["spec"]["template"]
    assert spec["metadata"]["annotations"]["checksum/config"] == "abc"
    (container,) = spec["spec"]["containers"]
    assert container["envFrom"] == [
        {"configMapRef": {"name": "web-config"}},
        {"secretRef": {"name": "web-secrets"}},
    ]


def test_metrics_port_is_named_for_services_and_monitors():
    (container,) = pod_spec(deploy(metrics_port=9090))["containers"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {
        "http": 8080,
        "metrics": 9090,
    }


def test_children_are_parented_to_the_component():
    rec = deploy()
    component = rec.one("webplatform:workload:Workload")
    assert {r.type for r in rec.children(component)} == {
        DEPLOY,
        "kubernetes:core/v1:ServiceAccount",
    }


GOOD = {
    "app": "web",
    "namespace": "ns",
    "image": "ghcr.io/acme/web:1.0.0",
    "port": 8080,
    "resources": {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
}


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"image": "ghcr.io/acme/web"}, "image", "name a tag or digest"),
        ({"image": "has space:1"}, "image", "repository path is not valid"),
        ({"image": "ghcr.io/Acme/web:1"}, "image", "must be lowercase"),
        ({"image": "Web:1"}, "image", "must be lowercase"),
        ({"image": "ghcr.io/acme/web@sha256:abc"}, "image", "sha256:<64 lowercase hex>"),
        ({"image": 5}, "image", "valid string"),
        ({"port": 0}, "port", "greater than or equal to 1"),
        ({"port": 70000}, "port", "less than or equal to 65535"),
        ({"port": "8080"}, "port", "valid integer"),
        ({"port": 8080.0}, "port", "valid integer"),
        ({"port": True}, "port", "valid integer"),
        ({"replicas": -1}, "replicas", "greater than or equal to 0"),
        ({"replicas": "3"}, "replicas", "valid integer"),
        ({"runAsUser": 0}, "runAsUser", "greater than or equal to 1"),
        ({"metricsPort": 8080}, "metricsPort", "must differ from port"),
        (
            {"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}},
            "rollingUpdate.maxSurge",
            "cannot both be 0",
        ),
        (
            {"rollingUpdate": {"maxSurge": "0%", "maxUnavailable": "0%"}},
            "rollingUpdate.maxSurge",
            "cannot both be 0",
        ),
        (
            {"rollingUpdate": {"maxSurge": "150"}},
            "rollingUpdate.maxSurge",
            "percentage string like '25%'",
        ),
        ({"rollingUpdate": {"maxSurge": "abc"}}, "rollingUpdate.maxSurge", "whole number of pods"),
        ({"rollingUpdate": {"maxSurge": -1}}, "rollingUpdate.maxSurge", "whole number of pods"),
        ({"rollingUpdate": {"maxSurge": 1.5}}, "rollingUpdate.maxSurge", "whole number of pods"),
        (
            {"rollingUpdate": {"maxUnavailable": "101%"}},
            "rollingUpdate.maxUnavailable",
            "at most 100%",
        ),
        ({"rollingUpdate": {"max_surge": 1}}, "rollingUpdate.max_surge", "Extra inputs"),
        ({"app": "Web"}, "app", "should match pattern"),
        ({"app": "1web"}, "app", "should match pattern"),
        ({"app": "w" * 64}, "app", "at most 63"),
        ({"tmpSizeLimit": "lots"}, "tmpSizeLimit", "not a memory quantity"),
        (
            {"liveness": {"path": "health", "initialDelaySeconds": 1, "periodSeconds": 1}},
            "liveness.path",
            "pattern",
        ),
        (
            {"liveness": {"path": "/h", "initialDelaySeconds": -1, "periodSeconds": 1}},
            "liveness.initialDelaySeconds",
            "greater than or equal to 0",
        ),
        (
            {"readiness": {"path": "/r", "initialDelaySeconds": 1, "periodSeconds": 0}},
            "readiness.periodSeconds",
            "greater than or equal to 1",
        ),
        (
            {
                "readiness": {
                    "path": "/r",
                    "initialDelaySeconds": 1,
                    "periodSeconds": 1,
                    "failureThreshold": 0,
                }
            },
            "readiness.failureThreshold",
            "greater than or equal to 1",
        ),
        ({"extraLabels": {"bad key!": "x"}}, "extraLabels", "not Kubernetes label keys"),
        ({"deploymentName": "Web"}, "deploymentName", "pattern"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_bad_args_are_rejected_with_the_key_that_is_wrong(overrides, path, message):
    rejects(WorkloadArgs, {**GOOD, **overrides}, path, message)


def test_good_int_or_percent_values_pass():
    for surge, unavailable in ((0, 1), ("25%", 0), ("150%", "0%"), (2, "100%")):
        update = RollingUpdate(max_surge=surge, max_unavailable=unavailable)
        assert (update.max_surge, update.max_unavailable) == (surge, unavailable)


def test_rolling_update_is_rendered():
    spec = deploy(rolling_update=RollingUpdate(max_surge="25%", max_unavailable=1)).one(DEPLOY)
    assert spec.inputs["spec"]["strategy"]["rollingUpdate"] == {
        "maxSurge": "25%",
        "maxUnavailable": 1,
    }


@pytest.mark.parametrize(
    ("resources", "path", "message"),
    [
        ({"requests": {"cpu": "600m"}}, "requests.cpu", "exceeds limits.cpu"),
        ({"requests": {"memory": "1Gi"}}, "requests.memory", "exceeds limits.memory"),
        ({"limits": {"cpu": "lots"}}, "limits.cpu", "not a CPU quantity"),
        ({"limits": {"memory": "512MB"}}, "limits.memory", "not a memory quantity"),
        ({"requests": {"cpu": "0m"}}, "requests.cpu", "greater than zero"),
        ({"requests": {"cpu": 1}}, "requests.cpu", "valid string"),
        ({"requests": {"cpu": None}}, "requests.cpu", "valid string"),
    ],
)
def test_resources_are_checked(resources, path, message):
    base = {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    data = {kind: {**base[kind], **resources.get(kind, {})} for kind in base}
    rejects(Resources, data, path, message)


def test_resources_need_all_four_numbers():
    rejects(Resources, {"requests": {"cpu": "1", "memory": "1Mi"}}, "limits", "Field required")
    rejects(
        Resources,
        {"requests": {"cpu": "1"}, "limits": {"cpu": "1", "memory": "1Mi"}},
        "requests.memory",
        "Field required",
    )


def test_quantities_compare_across_units():
    Resources(
        requests=Quantities(cpu="0.5", memory="512Mi"),
        limits=Quantities(cpu="500m", memory="0.5Gi"),
    )
    with pytest.raises(ValueError, match="exceeds"):
        Resources(
            requests=Quantities(cpu="1", memory="1M"), limits=Quantities(cpu="999m", memory="1Mi")
        )


def test_args_are_frozen():
    with pytest.raises(ValidationError, match="frozen"):
        args().port = 1  # type: ignore[misc]
