import pytest

from webplatform import HttpProbe, Resources, Workload, WorkloadArgs, testing

DEPLOY = "kubernetes:apps/v1:Deployment"
RES = Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")


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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"image": "ghcr.io/acme/web"}, "name a tag or digest"),
        ({"image": "has space:1"}, "not a container image"),
        ({"port": 0}, "port=0"),
        ({"port": 70000}, "port=70000"),
        ({"replicas": -1}, "replicas=-1"),
        ({"run_as_user": 0}, "non-root"),
        ({"metrics_port": 8080}, "must differ from port"),
        ({"max_surge": 0, "max_unavailable": 0}, "cannot both be 0"),
        ({"app": "Web"}, "DNS label"),
    ],
)
def test_bad_args_are_rejected_before_anything_is_registered(overrides, message):
    with pytest.raises(ValueError, match=message):
        args(**overrides)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cpu_request": "600m"}, "cpu_request='600m' exceeds cpu_limit='500m'"),
        ({"memory_request": "1Gi"}, "memory_request='1Gi' exceeds memory_limit='512Mi'"),
        ({"cpu_limit": "lots"}, "cpu_limit: 'lots' is not a CPU quantity"),
        ({"memory_limit": "512MB"}, "memory_limit: '512MB' is not a memory quantity"),
        ({"cpu_request": "0m"}, "greater than zero"),
    ],
)
def test_resources_are_checked(kwargs, message):
    base = dict(cpu_request="250m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")
    with pytest.raises(ValueError, match=message):
        Resources(**{**base, **kwargs})


def test_quantities_compare_across_units():
    Resources(cpu_request="0.5", memory_request="512Mi", cpu_limit="500m", memory_limit="0.5Gi")
    with pytest.raises(ValueError, match="exceeds"):
        Resources(cpu_request="1", memory_request="1M", cpu_limit="999m", memory_limit="1Mi")


def test_probe_validation():
    with pytest.raises(ValueError, match="must start with '/'"):
        HttpProbe(path="health", initial_delay_seconds=1, period_seconds=1)
    with pytest.raises(ValueError, match="period_seconds"):
        HttpProbe(path="/h", initial_delay_seconds=1, period_seconds=0)
