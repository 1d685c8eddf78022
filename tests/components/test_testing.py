"""The public test helpers are a contract for our users: test them like one."""

import pulumi
import pulumi_kubernetes as k8s
import pytest

from webplatform import testing

SECRET = {testing.SIG_KEY: testing.SECRET_SIG, "value": "s3cr3t"}


def test_unwrap_secrets_returns_plain_values_and_secret_paths():
    value = {
        "a": SECRET,
        "b": [1, {"c": SECRET}],
        "d": {testing.SIG_KEY: testing.SECRET_SIG, "value": {"e": "x"}},
    }
    plain, paths = testing.unwrap_secrets(value)
    assert plain == {"a": "s3cr3t", "b": [1, {"c": "s3cr3t"}], "d": {"e": "x"}}
    assert paths == {"a", "b[1].c", "d"}


def test_redact_keeps_map_shape_but_hides_every_leaf():
    value = {"keep": 1, "hide": {"A": "x", "B": ["y"]}, "list": ["p", "q"]}
    assert testing.redact(value, {"hide", "list[1]"}) == {
        "keep": 1,
        "hide": {"A": "[secret]", "B": ["[secret]"]},
        "list": ["p", "[secret]"],
    }


def test_whole_numbers_turns_wire_floats_back_into_ints():
    assert testing.whole_numbers({"a": 3.0, "b": [2.5, 1.0], "c": True}) == {
        "a": 3,
        "b": [2.5, 1],
        "c": True,
    }
    assert isinstance(testing.whole_numbers(3.0), int)


def test_recording_keeps_provider_parent_dependencies_and_secret_outputs():
    def program():
        provider = k8s.Provider("k8s", context="kind")
        cm = k8s.core.v1.ConfigMap(
            "a", data={"x": "1"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        k8s.core.v1.ConfigMap(
            "b",
            data={"x": "2"},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[cm], protect=True),
        )
        pulumi.export("plain", "p")
        pulumi.export("hidden", pulumi.Output.secret("h"))

    rec = testing.run(program, stack="unit")
    a, b = (
        rec.one("kubernetes:core/v1:ConfigMap", "a"),
        rec.one("kubernetes:core/v1:ConfigMap", "b"),
    )
    provider = rec.one("pulumi:providers:kubernetes")
    assert a.provider.startswith(provider.urn)
    assert a.urn in b.dependencies and b.protect and not a.protect
    assert rec.stack_outputs == {"plain": "p", "hidden": "h"}
    assert rec.secret_outputs == {"hidden"}
    assert all(r.urn.startswith("urn:pulumi:unit::webplatform::") for r in rec.resources)


def test_runs_are_isolated_from_each_other():
    testing.run(lambda: k8s.core.v1.ConfigMap("first", data={}))
    rec = testing.run(lambda: k8s.core.v1.ConfigMap("second", data={}))
    assert [r.name for r in rec.resources] == ["second"]


def test_one_fails_loudly_when_the_lookup_is_ambiguous_or_empty():
    rec = testing.run(lambda: [k8s.core.v1.ConfigMap(n, data={}) for n in ("a", "b")])
    with pytest.raises(LookupError, match="found 2"):
        rec.one("kubernetes:core/v1:ConfigMap")
    with pytest.raises(LookupError, match="found 0"):
        rec.one("kubernetes:core/v1:Secret")


def test_program_errors_propagate():
    def program():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        testing.run(program)


def test_urns_carry_the_whole_parent_type_chain_like_the_engine():
    class Outer(pulumi.ComponentResource):
        def __init__(self, name):
            super().__init__("x:m:Outer", name)
            Inner(f"{name}-inner", pulumi.ResourceOptions(parent=self))

    class Inner(pulumi.ComponentResource):
        def __init__(self, name, opts):
            super().__init__("x:m:Inner", name, None, opts)
            k8s.core.v1.ConfigMap(f"{name}-cm", data={}, opts=pulumi.ResourceOptions(parent=self))

    rec = testing.run(lambda: Outer("o"), stack="s")
    assert rec.urns == [
        "urn:pulumi:s::webplatform::x:m:Outer$x:m:Inner$kubernetes:core/v1:ConfigMap::o-inner-cm",
        "urn:pulumi:s::webplatform::x:m:Outer$x:m:Inner::o-inner",
        "urn:pulumi:s::webplatform::x:m:Outer::o",
    ]


def test_aws_functions_are_answered_in_the_mock_region_and_others_are_refused():
    def program():
        import pulumi_aws as aws

        zones = aws.get_availability_zones_output(state="available")
        identity = aws.get_caller_identity_output()
        pulumi.export("zones", zones.names)
        pulumi.export("account", identity.account_id)

    rec = testing.run(
        program, mocks=testing.RecordingMocks(account_id="210987654321", region="eu-west-1")
    )
    assert rec.stack_outputs["zones"][:3] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert rec.stack_outputs["account"] == "210987654321"

    def unknown():
        pulumi.runtime.invoke("aws:index/getArn:getArn", {})

    with pytest.raises(Exception, match="no mock for provider function aws:index/getArn"):
        testing.run(unknown)


def test_eks_cluster_outputs_are_computed_like_aws_does():
    def program():
        import pulumi_aws as aws

        cluster = aws.eks.Cluster(
            "c", name="demo", role_arn="arn:aws:iam::1:role/r", vpc_config={"subnet_ids": ["a"]}
        )
        pulumi.export("arn", cluster.arn)
        pulumi.export("ca", cluster.certificate_authority.data)

    rec = testing.run(program)
    assert rec.stack_outputs["arn"] == "arn:aws:eks:us-west-2:123456789012:cluster/demo"
    assert rec.stack_outputs["ca"]
