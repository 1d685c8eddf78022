"""Defect 4 of issue 19: NetworkPolicies must be enforced on EKS Auto Mode.

Auto Mode enforces them only with the ``amazon-vpc-cni`` ConfigMap in
``kube-system`` saying ``enable-network-policy-controller: "true"`` and nodes
from a NodeClass that sets ``networkPolicy`` (EKS user guide, auto-net-pol);
the NodePool used the built-in ``default`` NodeClass and no ConfigMap existed.
"""

import ipaddress

import pulumi
import pytest
import yaml

from infra import synth
from tests.conftest import synthesized
from webplatform import testing
from webplatform.cluster.node_class import NodeClass, NodeClassArgs

EKS_STACKS = ("staging", "uat", "prod")


def test_the_node_class_enforces_policies_and_repeats_what_default_gives():
    def program():
        NodeClass(
            "apps",
            NodeClassArgs(
                role=pulumi.Output.from_input("node-role"),
                subnet_ids=("subnet-a", "subnet-b"),
                security_group_ids=("sg-cluster",),
            ),
        )

    rec = testing.run(program)
    spec = rec.one("kubernetes:eks.amazonaws.com/v1:NodeClass").inputs["spec"]
    # create-node-class: role, subnetSelectorTerms and securityGroupSelectorTerms are required.
    assert spec == {
        "role": "node-role",
        "subnetSelectorTerms": [{"id": "subnet-a"}, {"id": "subnet-b"}],
        "securityGroupSelectorTerms": [{"id": "sg-cluster"}],
        "networkPolicy": "DefaultAllow",
        "networkPolicyEventLogs": "Enabled",
    }
    switch = rec.one("kubernetes:core/v1:ConfigMap").inputs
    assert switch["metadata"] == {"name": "amazon-vpc-cni", "namespace": "kube-system"}
    assert switch["data"] == {"enable-network-policy-controller": "true"}


def test_network_policy_values_are_the_documented_ones():
    with pytest.raises(ValueError):
        NodeClassArgs(role="r", subnet_ids=("s",), security_group_ids=("g",), network_policy="Deny")


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in EKS_STACKS}


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_every_eks_stack_turns_enforcement_on_for_the_nodes_its_apps_run_on(synths, stack):
    objects = synths[stack].kubernetes_objects()
    by_kind: dict[str, list] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], []).append(obj)
    switches = [c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == "amazon-vpc-cni"]
    assert [c["metadata"]["namespace"] for c in switches] == ["kube-system"]
    assert switches[0]["data"]["enable-network-policy-controller"] == "true"
    (pool,) = by_kind["NodePool"]
    ref = pool["spec"]["template"]["spec"]["nodeClassRef"]
    assert ref["group"] == "eks.amazonaws.com" and ref["kind"] == "NodeClass"
    assert ref["name"] != "default", "the built-in NodeClass enforces no NetworkPolicy"
    classes = {c["metadata"]["name"]: c["spec"] for c in by_kind["NodeClass"]}
    assert classes[ref["name"]]["networkPolicy"] in ("DefaultAllow", "DefaultDeny")
    resources = synths[stack].resources()["resources"]
    cluster = next(r for r in resources if r["type"] == "aws:eks/cluster:Cluster")
    role = next(
        r for r in resources if r["type"] == "aws:iam/role:Role" and r["name"].endswith("node-role")
    )
    # The cluster's Auto Mode node role: EKS made its access entry (another role needs one).
    assert role["inputs"]["assumeRolePolicy"]
    assert cluster["inputs"]["computeConfig"]["nodeRoleArn"].endswith(classes[ref["name"]]["role"])


@pytest.mark.parametrize("stack", EKS_STACKS)
def test_dns_egress_allows_exactly_the_auto_mode_resolver(synths, stack):
    """Auto Mode serves DNS from CoreDNS on every node, behind the kube-dns Service address
    (containers-roadmap #2552, #2546): a rule selecting kube-dns pods admits nothing there."""
    resources = synths[stack].resources()["resources"]
    cluster = next(r for r in resources if r["type"] == "aws:eks/cluster:Cluster")
    service_cidr = cluster["inputs"]["kubernetesNetworkConfig"]["serviceIpv4Cidr"]
    resolver = f"{ipaddress.ip_network(service_cidr).network_address + 10}/32"
    policies = [
        o
        for o in synths[stack].kubernetes_objects()
        if o["kind"] == "NetworkPolicy" and o["spec"].get("egress")
    ]
    assert policies
    for policy in policies:
        dns = [
            rule
            for rule in policy["spec"]["egress"]
            if any(p.get("port") == 53 for p in rule.get("ports", []))
        ]
        assert dns == [
            {
                "to": [{"ipBlock": {"cidr": resolver}}],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            }
        ], yaml.safe_dump(policy)


def test_the_local_stack_keeps_the_dns_pod_rule():
    """A cluster whose DNS is pods (the local control plane, kind, kubeadm) keeps the pod rule."""
    objects = synth.synthesize("local").kubernetes_objects()
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["spec"].get("egress")]
    dns = policy["spec"]["egress"][0]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
