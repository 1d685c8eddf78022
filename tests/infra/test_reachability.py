"""Outcome: from every public host name to the pods, every hop exists and matches (issue 19).

For every stack that makes an app public (a CDN in front of it, or a cluster the stack
builds with a load balancer), the synth (what ``python -m infra.synth`` writes: the
Kubernetes objects of ``kubernetes.yaml``, and the cloud resources of ``resources.json``
as recorded before redaction, because CloudFront's origin block holds the secret header
and is therefore all ``[secret]`` in the file) is walked the way a request travels:

viewer name -> its DNS record -> the CDN (alias, origin, origin header) -> the origin
host's DNS record -> the Gateway's load balancer (internet-facing NLB, the Gateway's
address) -> the Gateway's HTTPS listener for that host (its certificate, from an issuer
the CDN trusts) -> the app's HTTPRoute -> the Service and port -> the pods the selector
picks (a container port of that name, replicas) -> and the origin refuses what did not
come through the CDN (a SecurityPolicy requiring the header the CDN sends).

Each hop is checked against the previous one's *values*, not only for existence: a record
that points at a placeholder, a listener for another name, an internal NLB, or a route to
the wrong port fails here. AWS and Cloudflare run under mocks (the Gateway's address is the
mocks' stand-in for what Envoy Gateway publishes once EKS Auto Mode has made the NLB);
what only a real account can show is listed in docs/guides/edge.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from infra import synth
from tests.conftest import STACKS, load_stack_file, synthesized
from webplatform.testing import Resource

NLB_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
NLB_TARGET = "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"
LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory"
SECRET = "[secret]"


def _public(stack: str) -> bool:
    config = load_stack_file(stack)["config"]
    cdn = (config.get("webplatform:cdn") or {}).get("provider", "none")
    eks = (config.get("webplatform:cluster") or {}).get("mode") == "eks"
    return cdn != "none" or eks


PUBLIC = [s for s in STACKS if _public(s)]


@dataclass
class Synth:
    config: dict[str, Any]
    resources: list[Resource]
    outputs: dict[str, Any]
    objects: list[dict[str, Any]]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        """Resources of ``type_`` as ``{"inputs", "secret"}``: plain inputs, and the paths
        that are secret (what the engine keeps encrypted in the state)."""
        return [
            {"inputs": r.inputs, "secret": r.is_secret} for r in self.resources if r.type == type_
        ]

    def objects_of(self, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            o
            for o in self.objects
            if o["kind"] == kind
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]

    def object(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        found = [o for o in self.objects_of(kind, namespace) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"no {kind} {namespace}/{name} in kubernetes.yaml"
        return found[0]


@pytest.fixture(scope="module")
def synths(tmp_path_factory) -> dict[str, Synth]:
    found = {}
    for stack in PUBLIC:
        out = tmp_path_factory.mktemp(stack)
        result = synthesized(stack)
        manifests, resources = synth.write(result, out)
        written = json.loads(resources.read_text())
        objects = [o for o in yaml.safe_load_all(manifests.read_text()) if o]
        config = {
            k.removeprefix("webplatform:"): v for k, v in load_stack_file(stack)["config"].items()
        }
        found[stack] = Synth(config, result.recording.resources, written["outputs"], objects)
    return found


def test_the_public_stacks_are_the_eks_and_cdn_ones():
    # dev and local: no load balancer, no CDN; prod-dr: an internet-facing NLB, fronted by
    # prod's CloudFront (its failover origin) once the recovery region is up.
    assert sorted(PUBLIC) == ["prod", "prod-dr", "staging", "uat"]


@dataclass
class Hop:
    """Where a request is once it has reached the origin host on the Gateway."""

    origin_host: str
    header: str | None


def _app(s: Synth) -> tuple[str, dict[str, Any]]:
    cdn = s.config["cdn"]
    name = cdn["app"] if "app" in cdn else cdn["failoverFor"]["app"]
    return name, s.config["apps"][name]


def _edge(s: Synth, viewer: str) -> Hop:
    """Viewer name -> DNS -> CDN -> origin host (the name the CDN sends as SNI and Host)."""
    cdn = s.config["cdn"]
    _, app = _app(s)
    route_hosts = app["route"]["hosts"]
    address = s.outputs["gateway"]["address"]
    assert address and address.endswith(".elb.us-west-2.amazonaws.com"), address
    if cdn["provider"] == "cloudfront":
        [dist] = s.of_type("aws:cloudfront/distribution:Distribution")
        domain = s.outputs["cdn"]["domainName"]
        assert viewer in dist["inputs"]["aliases"]
        aliases = [
            r
            for r in s.of_type("aws:route53/record:Record")
            if r["inputs"]["name"] == viewer and r["inputs"].get("aliases")
        ]
        assert {r["inputs"]["type"] for r in aliases} == {"A", "AAAA"}, viewer
        for record in aliases:
            assert record["inputs"]["zoneId"] == cdn["hostedZoneId"]
            assert record["inputs"]["aliases"][0]["name"] == domain
        # The origin the default behaviour sends to; a failover origin (the recovery region's,
        # in an origin group) must be guarded by the same header.
        origins = {o["originId"]: o for o in dist["inputs"]["origins"]}
        origin = origins[dist["inputs"]["defaultCacheBehavior"]["targetOriginId"]]
        for i, other in enumerate(dist["inputs"]["origins"]):
            assert other.get("customHeaders"), f"origin {other['originId']} takes any request"
            assert dist["secret"](f"origins[{i}].customHeaders[0].value"), "a plain header value"
        origin_host = origin["domainName"]
        assert origin_host == route_hosts[0]
        custom = origin["customOriginConfig"]
        assert (custom["originProtocolPolicy"], custom["httpsPort"]) == ("https-only", 443)
        # the origin host's own record: the Gateway's load balancer, in the stack's zone
        [record] = [
            r for r in s.of_type("aws:route53/record:Record") if r["inputs"]["name"] == origin_host
        ]
        zone = cdn.get("originZoneId", cdn.get("hostedZoneId"))
        assert record["inputs"]["zoneId"] == zone
        assert (record["inputs"]["type"], record["inputs"]["records"]) == ("CNAME", [address])
        headers = origin.get("customHeaders")
        assert headers, "CloudFront sends no origin header: the origin cannot tell it apart"
        [header] = headers
        return Hop(origin_host, header["name"])
    assert cdn["provider"] == "cloudflare"
    assert viewer in route_hosts  # Cloudflare proxies the route's own names
    [record] = [
        r
        for r in s.of_type("cloudflare:index/dnsRecord:DnsRecord")
        if r["inputs"]["name"] == viewer
    ]
    assert record["inputs"]["proxied"] is True
    assert (record["inputs"]["type"], record["inputs"]["content"]) == ("CNAME", address)
    assert record["inputs"]["zoneId"] == cdn["zoneId"]
    late = [
        r
        for r in s.of_type("cloudflare:index/ruleset:Ruleset")
        if r["inputs"]["phase"] == "http_request_late_transform"
    ]
    assert late, "Cloudflare adds no origin header: the origin cannot tell it apart"
    [rule] = late[0]["inputs"]["rules"]
    assert viewer in rule["expression"]
    [(name, header)] = rule["actionParameters"]["headers"].items()
    assert header["operation"] == "set"
    path = f"rules[0].actionParameters.headers.{name}.value"
    assert late[0]["secret"](path), "the header value is plain"
    return Hop(viewer, name)


def _viewers(s: Synth) -> list[str]:
    cdn = s.config["cdn"]
    if cdn["provider"] == "cloudfront":
        return [cdn["host"], *cdn.get("aliases", [])]
    return list(_app(s)[1]["route"]["hosts"])


def _gateway_to_pods(s: Synth, hop: Hop) -> None:
    _, app = _app(s)
    namespace = s.config["namespace"]
    # The Gateway whose listener serves the origin host on 443.
    gateways = [
        g
        for g in s.objects_of("Gateway")
        if any(
            ln.get("hostname") == hop.origin_host and ln["port"] == 443
            for ln in g["spec"]["listeners"]
        )
    ]
    assert len(gateways) == 1, f"no Gateway listens for {hop.origin_host} on 443"
    gateway = gateways[0]
    gw_ns, gw_name = gateway["metadata"]["namespace"], gateway["metadata"]["name"]
    [listener] = [
        ln
        for ln in gateway["spec"]["listeners"]
        if ln.get("hostname") == hop.origin_host and ln["port"] == 443
    ]
    assert listener["protocol"] == "HTTPS" and listener["tls"]["mode"] == "Terminate"
    admitted = listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]
    assert namespace in admitted["values"]

    # The load balancer in front of the Gateway: an internet-facing NLB by EKS Auto Mode.
    ref = gateway["spec"].get("infrastructure", {}).get("parametersRef")
    assert ref and ref["kind"] == "EnvoyProxy", "the Gateway's proxies have Envoy's defaults"
    proxy = s.object("EnvoyProxy", gw_ns, ref["name"])
    kube = proxy["spec"]["provider"]["kubernetes"]
    service = kube["envoyService"]
    assert service["type"] == "LoadBalancer"
    assert service["loadBalancerClass"] == "eks.amazonaws.com/nlb"
    assert service["annotations"][NLB_SCHEME] == "internet-facing"
    assert service["annotations"][NLB_TARGET] == "ip"
    assert kube["envoyDeployment"]["replicas"] >= 2
    assert kube["envoyPDB"] == {"maxUnavailable": 1}
    ports = {ln["port"] for ln in gateway["spec"]["listeners"]}
    assert {80, 443} <= ports  # the NLB's listeners follow the Gateway's

    # The listener's certificate: one the CDN trusts, for this host.
    [cert_ref] = listener["tls"]["certificateRefs"]
    annotations = gateway["metadata"].get("annotations") or {}
    issuer_name = annotations.get("cert-manager.io/cluster-issuer")
    if issuer_name is not None:
        issuer = s.object("ClusterIssuer", None, issuer_name)
        acme = issuer["spec"]["acme"]
        # CloudFront and Cloudflare strict both refuse a certificate from an untrusted CA.
        assert acme["server"] == LETSENCRYPT_PRODUCTION, acme["server"]
        solver = acme["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]
        assert (solver["namespace"], solver["name"]) == (gw_ns, gw_name)
        # HTTP-01 must reach the solver on port 80 of the origin host, and on 443 for renewals.
        http = [
            ln
            for ln in gateway["spec"]["listeners"]
            if ln.get("hostname") == hop.origin_host and ln["port"] == 80
        ]
        assert http and http[0]["protocol"] == "HTTP"
        for ln in (http[0], listener):
            values = ln["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"][0]
            assert gw_ns in values["values"]
        assert s.config["cdn"]["provider"] != "cloudflare", (
            "Cloudflare always-use-HTTPS redirects the HTTP-01 challenge: no certificate"
        )
    else:
        tls = s.object("Secret", gw_ns, cert_ref["name"])
        assert tls["type"] == "kubernetes.io/tls"
        assert tls["stringData"] == SECRET or tls["stringData"]["tls.key"] == SECRET
        [origin_ca] = s.of_type("cloudflare:index/originCaCertificate:OriginCaCertificate")
        assert hop.origin_host in origin_ca["inputs"]["hostnames"]

    # The app's HTTPRoute on that listener, to the Service's port.
    routes = [
        r
        for r in s.objects_of("HTTPRoute", namespace)
        if hop.origin_host in r["spec"]["hostnames"]
        and any(
            (p["namespace"], p["name"], p.get("sectionName")) == (gw_ns, gw_name, listener["name"])
            for p in r["spec"]["parentRefs"]
        )
    ]
    assert len(routes) == 1, f"no HTTPRoute of {namespace} on listener {listener['name']}"
    route = routes[0]
    [backend] = [b for rule in route["spec"]["rules"] for b in rule.get("backendRefs", [])]
    svc = s.object("Service", namespace, backend["name"])
    [port] = [p for p in svc["spec"]["ports"] if p["port"] == backend["port"]]

    # The pods: Deployments the selector picks, with a container port of the target's name.
    selector = svc["spec"]["selector"]
    picked = [
        d
        for d in s.objects_of("Deployment", namespace)
        if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert picked, f"Service {svc['metadata']['name']} selects no pods"
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
        for h in s.objects_of("HorizontalPodAutoscaler", namespace)
    }
    for deployment in picked:
        containers = deployment["spec"]["template"]["spec"]["containers"]
        target = port["targetPort"]
        key = "name" if isinstance(target, str) else "containerPort"
        assert any(p.get(key) == target for c in containers for p in c.get("ports", [])), target
        replicas = deployment["spec"].get("replicas", hpas.get(deployment["metadata"]["name"]))
        assert replicas and replicas >= 1
        assert replicas == app["replicas"]

    # The origin's restriction: the route answers only requests with the CDN's header, so
    # the one X-Forwarded-For hop the Gateway trusts (the CDN's) cannot come from a client
    # that skipped the CDN.
    assert hop.header is not None
    [client] = [
        p
        for p in s.objects_of("ClientTrafficPolicy", gw_ns)
        if p["spec"]["targetRefs"][0]["name"] == gw_name
    ]
    assert client["spec"]["clientIPDetection"] == {"xForwardedFor": {"numTrustedHops": 1}}
    policies = [
        p
        for p in s.objects_of("SecurityPolicy", namespace)
        if {"kind": "HTTPRoute", "name": route["metadata"]["name"]}.items()
        <= p["spec"]["targetRefs"][0].items()
    ]
    assert len(policies) == 1, f"nothing restricts route {route['metadata']['name']} to the CDN"
    auth = policies[0]["spec"]["apiKeyAuth"]
    assert auth["extractFrom"] == [{"headers": [hop.header]}]
    assert auth["sanitize"] is True
    [credential] = auth["credentialRefs"]
    key_secret = s.object("Secret", namespace, credential["name"])
    assert key_secret["stringData"] == SECRET or set(key_secret["stringData"].values()) == {SECRET}


@pytest.mark.parametrize("stack", [s for s in PUBLIC if s != "prod-dr"])
def test_every_public_host_reaches_the_pods_only_through_the_cdn(synths, stack):
    s = synths[stack]
    viewers = _viewers(s)
    assert viewers
    for viewer in viewers:
        _gateway_to_pods(s, _edge(s, viewer))


def test_the_recovery_region_is_reached_through_prods_cdn_only(synths):
    """prod's CloudFront -> its failover origin (prod-dr's route host) -> the record prod-dr
    makes in prod's zone -> prod-dr's load balancer -> Gateway -> route guarded by the same
    header prod's distribution sends -> pods."""
    prod, dr = synths["prod"], synths["prod-dr"]
    failover = prod.config["cdn"]["failoverOriginHost"]
    [dist] = prod.of_type("aws:cloudfront/distribution:Distribution")
    [origin] = [o for o in dist["inputs"]["origins"] if o["domainName"] == failover]
    custom = origin["customOriginConfig"]
    assert (custom["originProtocolPolicy"], custom["httpsPort"]) == ("https-only", 443)
    [header] = origin["customHeaders"]
    spec = dr.config["cdn"]["failoverFor"]
    assert spec["stack"] == "prod"
    assert dr.config["apps"][spec["app"]]["route"]["hosts"][0] == failover
    [record] = [
        r for r in dr.of_type("aws:route53/record:Record") if r["inputs"]["name"] == failover
    ]
    assert record["inputs"]["zoneId"] == spec["originZoneId"] == prod.config["cdn"]["hostedZoneId"]
    address = dr.outputs["gateway"]["address"]
    assert (record["inputs"]["type"], record["inputs"]["records"]) == ("CNAME", [address])
    assert prod.outputs["originHeader"] == SECRET  # what prod-dr reads: exported, as a secret
    _gateway_to_pods(dr, Hop(failover, header["name"]))


def test_cloudflare_origin_admits_only_cloudflares_ranges(synths):
    s = synths["staging"]
    proxy = s.objects_of("EnvoyProxy")[0]
    ranges = proxy["spec"]["provider"]["kubernetes"]["envoyService"]["loadBalancerSourceRanges"]
    assert ranges and "0.0.0.0/0" not in ranges and all("/" in r for r in ranges)
