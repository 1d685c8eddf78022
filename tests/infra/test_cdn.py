"""The CDN as the stack files choose it: wiring, the origin from the app's route, config rules."""

import json
import re

import pytest
from pydantic import TypeAdapter, ValidationError

from infra import synth
from infra.config import Cdn, CloudflareEdgeSpec, CloudFrontCdnSpec, NoCdn, StackConfigError, parse
from tests._edit import delete, set_
from tests.conftest import ROOT, load_stack_file, synthesized
from webplatform.edge import _checks as _edge
from webplatform.edge.cloudfront import FAILOVER_ORIGIN_ID, ORIGIN_ID

DIST = "aws:cloudfront/distribution:Distribution"
RULESET = "cloudflare:index/ruleset:Ruleset"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
CDN = "webplatform:cdn"
APPS = "webplatform:apps"


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in ("dev", "staging", "prod")}


def cdn_config(stack):
    return load_stack_file(stack)["config"][CDN]


def _web(config):
    return config[APPS]["web"]


def route_hosts_of(config):
    """The fronted app's route hosts as the stack file says them (``route.hosts``; before the
    Gateway API route, ``ingress.host``)."""
    web = _web(config)
    return list(web["route"]["hosts"]) if "route" in web else [web["ingress"]["host"]]


def set_route_hosts(config, hosts):
    web = _web(config)
    if "route" in web:
        web["route"]["hosts"] = hosts
    else:
        web["ingress"]["host"] = hosts[0]


def drop_route(config):
    _web(config).pop("route" if "route" in _web(config) else "ingress")


def primary(stack):
    return route_hosts_of(load_stack_file(stack)["config"])[0]


# --- the origin is derived from the fronted app's route (issue 15 part 5) -------------------


def public_routes(rec):
    """(host names a route serves, names its certificate covers) for each public route.

    An Ingress with a cert-manager annotation gets a certificate for its ``tls`` hosts; a
    Gateway API route gets its hostnames served by listeners whose certificates cert-manager
    issues for the listener host names (or by a Certificate's dnsNames).
    """
    routes = []
    for ingress in rec.by_type("kubernetes:networking.k8s.io/v1:Ingress"):
        spec, annotations = ingress.inputs["spec"], ingress.inputs["metadata"]["annotations"]
        assert {"cert-manager.io/cluster-issuer", "cert-manager.io/issuer"} & set(annotations)
        hosts = [rule["host"] for rule in spec["rules"]]
        covered = [h for tls in spec.get("tls", []) for h in tls["hosts"]]
        routes.append((hosts, covered))
    certificates = [
        name
        for cert in rec.by_type("kubernetes:cert-manager.io/v1:Certificate")
        for name in cert.inputs["spec"].get("dnsNames", [])
    ] + [
        listener["hostname"]
        for gateway in rec.by_type("kubernetes:gateway.networking.k8s.io/v1:Gateway")
        for listener in gateway.inputs["spec"]["listeners"]
        if listener.get("tls") and listener.get("hostname")
    ]
    for route in rec.by_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"):
        routes.append((route.inputs["spec"].get("hostnames", []), certificates))
    return routes


def covered_by_a_route(rec, name):
    return any(
        name in hosts and any(_edge.covers(cert, name) for cert in covered)
        for hosts, covered in public_routes(rec)
    )


CDN_STACKS = sorted(
    path.name.split(".")[1]
    for path in ROOT.glob("Pulumi.*.yaml")
    if (yaml_cdn := load_stack_file(path.name.split(".")[1])["config"].get(CDN))
    and yaml_cdn.get("provider", "none") != "none"
)


def names_sent_to_the_origin(rec):
    """The host names the CDN sends the origin as SNI and Host: CloudFront's origin domain,
    or each name Cloudflare proxies (SSL strict sends the proxied name)."""
    dists = rec.by_type(DIST)
    if dists:
        return [
            o["domainName"]
            for d in dists
            for o in d.inputs["origins"]
            if o["originId"] != FAILOVER_ORIGIN_ID  # another stack's route: checked below
        ]
    return [r.inputs["name"] for r in rec.by_type(DNS_RECORD) if r.inputs["proxied"]]


def test_every_cdn_stack_is_checked():
    assert CDN_STACKS == [
        "prod",
        "staging",
        "uat",
    ]  # a new CDN stack joins the test below by itself


@pytest.mark.parametrize("stack", CDN_STACKS)
def test_the_cdn_origin_is_a_route_host_its_certificate_covers(stack, synths):
    rec = synths[stack].recording if stack in synths else synthesized(stack).recording
    names = names_sent_to_the_origin(rec)
    assert names, "the CDN sends at least one name"
    assert public_routes(rec), f"{stack} has a public route"
    for name in names:
        assert covered_by_a_route(rec, name), name


def test_the_failover_origin_is_the_recovery_stacks_route_host_its_certificate_covers(synths):
    """Issue 22: prod's CloudFront fails over to a name that the recovery stack's route
    serves and its Gateway's certificate covers, so the failover answers over HTTPS."""
    (dist,) = synths["prod"].recording.by_type(DIST)
    (failover,) = [o for o in dist.inputs["origins"] if o["originId"] == FAILOVER_ORIGIN_ID]
    recovery = synth.synthesize("prod-dr").recording
    assert covered_by_a_route(recovery, failover["domainName"])
    assert not covered_by_a_route(synths["prod"].recording, failover["domainName"])


def test_cloudfront_viewer_names_are_not_the_origin(synths):
    dist = synths["prod"].recording.one(DIST).inputs
    for origin in dist["origins"]:  # the primary and the recovery region's
        assert origin["domainName"] not in dist["aliases"]


def test_the_route_check_fails_when_origin_and_route_disagree(synths):
    """Control for the two tests above: a name no route serves, and the viewer name, fail it."""
    rec = synths["prod"].recording
    assert not covered_by_a_route(rec, "not-routed.example.com")
    assert not covered_by_a_route(rec, cdn_config("prod")["host"])


def test_changing_the_route_host_moves_the_cdn_origin(write_stack):
    """One list of hosts: the route, its certificate and the origin cannot disagree."""
    document = load_stack_file("prod")
    set_route_hosts(document["config"], ["app.example.com"])
    rec = synth.synthesize("prod", write_stack("prod", document)).recording
    (origin,) = [o for o in rec.one(DIST).inputs["origins"] if o["originId"] == ORIGIN_ID]
    assert origin["domainName"] == "app.example.com"
    assert covered_by_a_route(rec, "app.example.com")
    assert rec.stack_outputs["cdn"]["origin"] == "app.example.com"


def test_the_stack_files_have_no_origin_host_key():
    for stack in ("dev", "staging", "prod"):
        assert "originHost" not in cdn_config(stack)
    assert cdn_config("prod")["app"] == cdn_config("staging")["app"] == "web"


# --- wiring and outputs -------------------------------------------------------------------


def test_each_provider_is_used_by_a_stack_and_dev_has_none():
    providers = {stack: cdn_config(stack)["provider"] for stack in ("dev", "staging", "prod")}
    assert providers == {"dev": "none", "staging": "cloudflare", "prod": "cloudfront"}


def test_dev_registers_no_cdn_and_exports_none(synths):
    rec = synths["dev"].recording
    assert not [r for r in rec.resources if r.type.startswith(("aws:", "cloudflare:"))]
    assert "cdn" not in rec.stack_outputs


def test_prod_cloudfront_takes_its_numbers_from_the_stack_file(synths):
    config = cdn_config("prod")
    rec = synths["prod"].recording
    dist = rec.one(DIST)
    assert dist.inputs["aliases"] == [config["host"], *config["aliases"]]
    assert dist.inputs["priceClass"] == config["priceClass"]
    logs = config["accessLogs"]
    assert dist.inputs["loggingConfig"]["bucket"] == f"{logs['bucket']}.s3.amazonaws.com"
    assert dist.inputs["loggingConfig"]["prefix"] == logs["prefix"]
    acl = rec.one("aws:wafv2/webAcl:WebAcl")
    rate = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    assert rate["statement"]["rateBasedStatement"]["limit"] == config["wafRateLimit"]
    headers = rec.one("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "cdn-headers")
    csp = headers.inputs["securityHeadersConfig"]["contentSecurityPolicy"]
    assert csp["contentSecurityPolicy"] == config["contentSecurityPolicy"]
    records = rec.by_type("aws:route53/record:Record")
    assert records and {r.inputs["zoneId"] for r in records} == {config["hostedZoneId"]}
    assert dist.inputs["tags"] == {"webplatform.io/environment": "production"}


def test_prod_default_behaviour_keeps_host_and_cookies_out_of_the_cache_key(synths):
    rec = synths["prod"].recording
    default = rec.one(DIST).inputs["defaultCacheBehavior"]
    policy = rec.one("aws:cloudfront/cachePolicy:CachePolicy", "cdn-cache-policy").inputs
    assert default["cachePolicyId"] == "cdn-cache-policy-id"
    key = policy["parametersInCacheKeyAndForwardedToOrigin"]
    assert key["headersConfig"]["headerBehavior"] == "none"
    assert key["cookiesConfig"]["cookieBehavior"] == "none"
    assert default["originRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_prod_cloudfront_resources_all_use_the_programs_us_east_1_provider(synths):
    rec = synths["prod"].recording
    provider = rec.one("pulumi:providers:aws")
    assert provider.inputs["region"] == "us-east-1"
    aws = [r for r in rec.resources if r.custom and r.type.startswith("aws:")]
    edge = [r for r in aws if "CloudFrontCdn$" in r.urn]
    # 13 before issue 15 added the default behaviour's cache policy, 14 before issue 19 added
    # the origin host's record (to the Gateway's load balancer)
    assert len(edge) == 15
    for resource in edge:
        assert resource.provider.startswith(provider.urn + "::"), resource.urn
    # and nothing else does: the cluster stays in the stack's own region
    for resource in aws:
        if resource not in edge:
            assert not resource.provider.startswith(provider.urn + "::"), resource.urn


def test_prod_exports_the_distribution_domain_name_and_origin(synths):
    rec = synths["prod"].recording
    outputs = rec.stack_outputs["cdn"]
    component = rec.one("webplatform:cdn_cloudfront:CloudFrontCdn")
    assert outputs["provider"] == "cloudfront" and outputs["host"] == "www.example.com"
    assert outputs["origin"] == primary("prod")
    assert outputs["domainName"] == component.outputs["domain_name"]
    assert outputs["domainName"].endswith(".cloudfront.net")
    assert "validationRecords" not in outputs  # the hosted zone holds them


def test_staging_cloudflare_takes_its_zone_from_the_stack_file_and_target_from_the_gateway(
    synths,
):
    config = cdn_config("staging")
    assert "originAddress" not in config  # issue 19: the placeholder key is gone
    rec = synths["staging"].recording
    record = rec.one(DNS_RECORD).inputs
    address = rec.stack_outputs["gateway"]["address"]
    assert address.endswith(".elb.us-west-2.amazonaws.com")
    assert (record["name"], record["content"], record["proxied"]) == (
        primary("staging"),
        address,
        True,
    )
    zoned = [r for r in rec.resources if r.type.startswith("cloudflare:") and "zoneId" in r.inputs]
    assert len(zoned) == 8 and {r.inputs["zoneId"] for r in zoned} == {config["zoneId"]}
    phases = sorted(r.inputs["phase"] for r in rec.by_type(RULESET))
    assert phases == [
        "http_request_cache_settings",
        "http_request_late_transform",
        "http_response_headers_transform",
    ]
    for ruleset in rec.by_type(RULESET):
        if ruleset.inputs["phase"] == "http_request_late_transform":
            continue  # its rule holds the secret header: the whole rule is secret
        assert ruleset.inputs["rules"][0]["expression"].startswith(
            f'http.host in {{"{primary("staging")}"}}'
        )
    assert rec.stack_outputs["cdn"] == {
        "provider": "cloudflare",
        "host": primary("staging"),
        "domainName": primary("staging"),
    }
    assert not [
        r for r in rec.resources if r.type.startswith(("aws:cloudfront", "aws:acm", "aws:wafv2"))
    ]


def test_a_cloudfront_stack_without_hosted_zone_exports_the_validation_records(write_stack):
    document = load_stack_file("prod")
    del document["config"][CDN]["hostedZoneId"]
    document["config"][CDN]["originZoneId"] = "Z0ORIGINZONE"
    result = synth.synthesize("prod", write_stack("prod", document))
    records = result.recording.stack_outputs["cdn"]["validationRecords"]
    assert {r["name"] for r in records} == {
        "_0123456789abcdef.www.example.com.",
        "_0123456789abcdef.example.com.",
    }
    # Only the origin host's record, in its own zone: the viewer names' zone is elsewhere.
    [origin] = result.recording.by_type("aws:route53/record:Record")
    assert (origin.name, origin.inputs["zoneId"]) == ("cdn-origin-record", "Z0ORIGINZONE")


def test_unset_keys_keep_the_component_defaults(write_stack):
    document = load_stack_file("prod")
    cdn = document["config"][CDN]
    for key in ("hostedZoneId", "priceClass", "wafRateLimit", "accessLogs"):
        cdn.pop(key)
    cdn["originZoneId"] = "Z0ORIGINZONE"  # the origin record needs a zone (no default)
    rec = synth.synthesize("prod", write_stack("prod", document)).recording
    dist = rec.one(DIST).inputs
    assert dist["priceClass"] == "PriceClass_100"
    assert dist["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"
    assert "loggingConfig" not in dist
    acl = rec.one("aws:wafv2/webAcl:WebAcl")
    rate = next(r for r in acl.inputs["rules"] if "rateBasedStatement" in r["statement"])
    assert rate["statement"]["rateBasedStatement"]["limit"] == 2000


def test_every_component_setting_is_a_stack_key(write_stack):
    """One model per setting: a key the component has but the old mirror lacked now works."""
    document = load_stack_file("staging")
    document["config"][CDN].update(
        {"minTlsVersion": "1.3", "frameOptions": "SAMEORIGIN", "assetsPathPrefix": "/static/"}
    )
    rec = synth.synthesize("staging", write_stack("staging", document)).recording
    tls = [r for r in rec.by_type("cloudflare:index/zoneSetting:ZoneSetting")]
    assert {r.inputs["settingId"]: r.inputs["value"] for r in tls}["min_tls_version"] == "1.3"
    headers = rec.one(RULESET, "cdn-response-headers").inputs["rules"][0]
    assert headers["actionParameters"]["headers"]["X-Frame-Options"]["value"] == "SAMEORIGIN"
    cache = rec.one(RULESET, "cdn-cache-rules").inputs["rules"][0]
    assert '"/static/"' in cache["expression"]


# --- infra/config declares no CDN setting of its own ----------------------------------------


def test_the_stack_specs_are_the_component_settings_plus_provider_and_app():
    from webplatform.edge.cloudflare import CloudflareSettings
    from webplatform.edge.cloudfront import CloudFrontSettings

    for spec, settings in (
        (CloudFrontCdnSpec, CloudFrontSettings),
        (CloudflareEdgeSpec, CloudflareSettings),
    ):
        assert issubclass(spec, settings)
        assert set(spec.model_fields) - set(settings.model_fields) == {"provider", "app"}
        for name, field in settings.model_fields.items():  # no second default
            assert spec.model_fields[name].default == field.default, name
    # and, without a CDN of its own, how many proxies another stack puts in front and whose
    # CDN fails over to this stack (prod-dr)
    assert set(NoCdn.model_fields) == {"provider", "trusted_proxy_hops", "failover_for"}


ADAPTER = TypeAdapter(Cdn)
CLOUDFRONT = {
    "provider": "cloudfront",
    "app": "web",
    "host": "www.example.com",
    "hostedZoneId": "Z0123456789EXAMPLEPRD",
    "contentSecurityPolicy": "default-src 'self'",
}


def as_stack_file(document):
    """How the stack file path validates: JSON, camelCase keys only."""
    return ADAPTER.validate_json(json.dumps(document), by_name=False)


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"wafRateLimit": "2000"}, ("wafRateLimit",)),
        ({"wafRateLimit": 2000.0}, ("wafRateLimit",)),
        ({"wafRateLimit": True}, ("wafRateLimit",)),
        ({"hstsPreload": "false"}, ("hstsPreload",)),
        ({"hstsPreload": 0}, ("hstsPreload",)),
        ({"aliases": "example.com"}, ("aliases",)),
        ({"host": ["www.example.com"]}, ("host",)),
        ({"accessLogs": "example-cdn-logs"}, ("accessLogs",)),
        (
            {"accessLogs": {"bucket": "example-cdn-logs", "includeCookies": "false"}},
            ("accessLogs", "includeCookies"),
        ),
        ({"assetsTtlSeconds": "31536000"}, ("assetsTtlSeconds",)),
        ({"app": 7}, ("app",)),
        ({"app": "Web"}, ("app",)),
    ],
)
def test_stack_values_are_not_coerced(change, loc):
    with pytest.raises(ValidationError) as error:
        as_stack_file({**CLOUDFRONT, **change})
    assert [e["loc"] for e in error.value.errors()] == [loc]


@pytest.mark.parametrize(
    "key", ["waf_rate_limit", "content_security_policy", "hosted_zone_id", "price_class"]
)
def test_snake_case_keys_are_refused_in_stack_files(key):
    document = {**CLOUDFRONT, key: CLOUDFRONT.get("contentSecurityPolicy")}
    if key == "content_security_policy":
        del document["contentSecurityPolicy"]
    with pytest.raises(ValidationError) as error:
        as_stack_file(document)
    extra = [e for e in error.value.errors() if e["type"] == "extra_forbidden"]
    # the key as written, without the union's tag: the report suggests its camelCase spelling
    assert [e["loc"] for e in extra] == [(key,)]


def test_a_misspelt_key_names_the_keys_its_provider_allows():
    with pytest.raises(ValidationError) as error:
        as_stack_file({**CLOUDFRONT, "wafRateLimits": 5})
    (problem,) = error.value.errors()
    assert problem["ctx"]["error"].loc == ("wafRateLimits",)
    message = str(problem["ctx"]["error"])
    assert message.startswith("unknown key for provider cloudfront; allowed: app, provider")
    assert "wafRateLimit," in message and "zoneId" not in message


def test_snake_case_names_still_work_from_python():
    spec = ADAPTER.validate_python(
        {**CLOUDFRONT, "waf_rate_limit": 500}, by_name=True, by_alias=True
    )
    assert spec.waf_rate_limit == 500


def test_the_provider_tag_is_not_part_of_the_reported_key():
    with pytest.raises(ValidationError) as error:
        as_stack_file({**CLOUDFRONT, "wafRateLimit": 1})
    assert [e["loc"] for e in error.value.errors()] == [("wafRateLimit",)]


def test_an_input_field_reports_one_plain_error_not_the_output_member():
    with pytest.raises(ValidationError) as error:
        as_stack_file(
            {
                "provider": "cloudflare",
                "app": "web",
                "zoneId": 5,
                "contentSecurityPolicy": "default-src 'self'",
            }
        )
    assert [e["loc"] for e in error.value.errors()] == [("zoneId",)]


# --- bad stack files: exit 2, the file and key path, nothing written -----------------------


ZONE = "0123456789abcdef0123456789abcdef"
# name: (stack, change, key path, a piece of the message)
BAD_STACKS = {
    "unknown-provider": (
        "prod",
        set_([CDN, "provider"], "akamai"),
        "cdn.provider",
        "must be cloudfront, cloudflare or none",
    ),
    "provider-missing": ("prod", delete([CDN, "provider"]), "cdn.provider", "is missing"),
    "app-missing": ("prod", delete([CDN, "app"]), "cdn.app", "Field required"),
    "app-unknown": ("prod", set_([CDN, "app"], "api"), "cdn.app", "not an app of this stack"),
    "app-not-a-label": ("prod", set_([CDN, "app"], "Web_1"), "cdn.app", "DNS-1035 label"),
    "app-without-route": (
        "prod",
        drop_route,
        "cdn.app",
        "has no public route",
    ),
    "staging-app-without-route": (
        "staging",
        drop_route,
        "cdn.app",
        "set apps.web.route.hosts",
    ),
    "origin-host-key-is-gone": (
        "prod",
        set_([CDN, "originHost"], "origin.example.com"),
        "cdn.originHost",
        "unknown key for provider cloudfront",
    ),
    "route-host-is-a-viewer-name": (
        "prod",
        lambda c: c[CDN].update(host=route_hosts_of(c)[0]),
        "cdn.app",
        "the CDN would be its own origin",
    ),
    "route-host-is-an-alias": (
        "prod",
        lambda c: c[CDN].update(aliases=["example.com", route_hosts_of(c)[0]]),
        "cdn.app",
        "is also one of the CDN's public names",
    ),
    # Issue 19: the records' target is the Gateway's load balancer, read from the Gateway;
    # the placeholder key is refused, with the keys that remain.
    "cloudflare-origin-address-key-is-gone": (
        "staging",
        set_([CDN, "originAddress"], "gateway.staging.example.com"),
        "cdn.originAddress",
        "unknown key for provider cloudflare; allowed: app, provider",
    ),
    "cloudflare-origin-certificate-days-not-offered": (
        "staging",
        set_([CDN, "originCertificateDays"], 100),
        "cdn.originCertificateDays",
        "5475",
    ),
    "cloudfront-origin-zone-missing": (
        "prod",
        delete([CDN, "hostedZoneId"]),
        "cdn.originZoneId",
        "required without hostedZoneId",
    ),
    "cloudfront-origin-zone-not-an-id": (
        "prod",
        set_([CDN, "originZoneId"], "example.com"),
        "cdn.originZoneId",
        "not a Route 53 hosted zone ID",
    ),
    "cloudflare-second-public-app": (
        "staging",
        lambda c: c["webplatform:apps"].update(
            api={
                **c["webplatform:apps"]["web"],
                "route": {**c["webplatform:apps"]["web"]["route"], "hosts": ["api.example.com"]},
            }
        ),
        "apps.api.route",
        "only cdn.app (web) may have a route",
    ),
    "gateway-one-proxy-in-production": (
        "prod",
        set_(["webplatform:gateway", "replicas"], 1),
        "gateway.replicas",
        "must be at least 2 in production",
    ),
    "gateway-one-proxy-in-uat": (
        "uat",
        set_(["webplatform:gateway", "replicas"], 1),
        "gateway.replicas",
        "must be at least 2 in uat",
    ),
    "gateway-proxy-cpu-not-a-quantity": (
        "prod",
        set_(["webplatform:gateway", "cpu"], "lots"),
        "gateway.cpu",
        "not a CPU quantity",
    ),
    "gateway-unknown-key": (
        "prod",
        set_(["webplatform:gateway", "scheme"], "internal"),
        "gateway.scheme",
        "unknown key; allowed: replicas, cpu, memory",
    ),
    "cloudflare-host-key": (
        "staging",
        set_([CDN, "host"], "staging.example.com"),
        "cdn.host",
        "unknown key for provider cloudflare; allowed: app, provider",
    ),
    "cloudflare-aliases-key": (
        "staging",
        set_([CDN, "aliases"], ["www.staging.example.com"]),
        "cdn.aliases",
        "unknown key for provider cloudflare",
    ),
    "old-nested-cloudflare-map": (
        "staging",
        set_([CDN, "cloudflare"], {"zoneId": ZONE}),
        "cdn.cloudflare",
        "unknown key for provider cloudflare",
    ),
    "old-nested-cloudfront-map": (
        "prod",
        set_([CDN, "cloudfront"], {"priceClass": "PriceClass_All"}),
        "cdn.cloudfront",
        "unknown key for provider cloudfront",
    ),
    "cloudflare-key-on-cloudfront": (
        "prod",
        set_([CDN, "zoneId"], ZONE),
        "cdn.zoneId",
        "unknown key",
    ),
    "cloudfront-key-on-cloudflare": (
        "staging",
        set_([CDN, "wafRateLimit"], 100),
        "cdn.wafRateLimit",
        "unknown key for provider cloudflare",
    ),
    "none-with-a-host": (
        "dev",
        set_([CDN, "host"], "dev.example.com"),
        "cdn.host",
        "allowed: provider",
    ),
    "none-with-an-app": (
        "dev",
        set_([CDN, "app"], "web"),
        "cdn.app",
        "unknown key for provider none",
    ),
    "csp-missing": (
        "prod",
        delete([CDN, "contentSecurityPolicy"]),
        "cdn.contentSecurityPolicy",
        "Field required",
    ),
    "csp-without-default-src": (
        "staging",
        set_([CDN, "contentSecurityPolicy"], "script-src 'self'"),
        "cdn.contentSecurityPolicy",
        "must set default-src",
    ),
    "csp-two-lines": (
        "prod",
        set_([CDN, "contentSecurityPolicy"], "default-src 'self'\nSet-Cookie: a=b"),
        "cdn.contentSecurityPolicy",
        "single header line",
    ),
    "csp-not-a-string": (
        "prod",
        set_([CDN, "contentSecurityPolicy"], ["default-src 'self'"]),
        "cdn.contentSecurityPolicy",
        "valid string",
    ),
    "host-missing": ("prod", delete([CDN, "host"]), "cdn.host", "Field required"),
    "host-is-a-url": (
        "prod",
        set_([CDN, "host"], "https://www.example.com/"),
        "cdn.host",
        "fully qualified host name",
    ),
    "host-in-capitals": ("prod", set_([CDN, "host"], "WWW.example.com"), "cdn.host", "lowercase"),
    "alias-repeated": (
        "prod",
        set_([CDN, "aliases"], ["example.com", "example.com"]),
        "cdn.aliases",
        "listed twice",
    ),
    "alias-is-the-host": (
        "prod",
        set_([CDN, "aliases"], ["www.example.com"]),
        "cdn.aliases",
        "equals the host",
    ),
    "alias-not-a-host": (
        "prod",
        set_([CDN, "aliases"], ["example"]),
        "cdn.aliases.0",
        "fully qualified",
    ),
    "aliases-a-string": (
        "prod",
        set_([CDN, "aliases"], "example.com"),
        "cdn.aliases",
        "Input should be a valid",
    ),
    "certificate-domain-not-the-host": (
        "prod",
        set_([CDN, "certificateDomain"], "*.example.org"),
        "cdn.certificateDomain",
        "does not cover the host 'www.example.com'",
    ),
    "certificate-domain-two-levels": (
        "prod",
        set_([CDN, "certificateDomain"], "*.*.example.com"),
        "cdn.certificateDomain",
        "one-level wildcard",
    ),
    "hosted-zone-with-prefix": (
        "prod",
        set_([CDN, "hostedZoneId"], "/hostedzone/Z0123456789EXAMPLEPRD"),
        "cdn.hostedZoneId",
        "Route 53 hosted zone ID",
    ),
    "waf-rate-limit-too-low": (
        "prod",
        set_([CDN, "wafRateLimit"], 5),
        "cdn.wafRateLimit",
        "greater than or equal to 10",
    ),
    "waf-rate-limit-too-high": (
        "prod",
        set_([CDN, "wafRateLimit"], 3_000_000_000),
        "cdn.wafRateLimit",
        "less than or equal to 2000000000",
    ),
    "waf-rate-limit-a-string": (
        "prod",
        set_([CDN, "wafRateLimit"], "2000"),
        "cdn.wafRateLimit",
        "valid integer",
    ),
    "waf-rate-limit-a-float": (
        "prod",
        set_([CDN, "wafRateLimit"], 2000.5),
        "cdn.wafRateLimit",
        "valid integer",
    ),
    "unknown-price-class": (
        "prod",
        set_([CDN, "priceClass"], "PriceClass_1"),
        "cdn.priceClass",
        "'PriceClass_100', 'PriceClass_200' or 'PriceClass_All'",
    ),
    "old-tls-policy": (
        "prod",
        set_([CDN, "minimumProtocolVersion"], "TLSv1_2016"),
        "cdn.minimumProtocolVersion",
        "'TLSv1.2_2021'",
    ),
    "misspelt-key": (
        "prod",
        set_([CDN, "wafRateLimits"], 100),
        "cdn.wafRateLimits",
        "allowed: app, provider",
    ),
    "snake-case-key": (
        "prod",
        set_([CDN, "price_class"], "PriceClass_All"),
        "cdn.price_class",
        "unknown key",
    ),
    "log-bucket-is-a-domain": (
        "prod",
        set_([CDN, "accessLogs", "bucket"], "logs.s3.amazonaws.com"),
        "cdn.accessLogs.bucket",
        "not an S3 bucket name",
    ),
    "log-prefix-absolute": (
        "prod",
        set_([CDN, "accessLogs", "prefix"], "/cdn/"),
        "cdn.accessLogs.prefix",
        "must not start with '/'",
    ),
    "log-bucket-missing": (
        "prod",
        delete([CDN, "accessLogs", "bucket"]),
        "cdn.accessLogs.bucket",
        "Field required",
    ),
    "log-unknown-key": (
        "prod",
        set_([CDN, "accessLogs", "bukket"], "x"),
        "cdn.accessLogs.bukket",
        "unknown key",
    ),
    "log-cookies-yes": (
        "prod",
        set_([CDN, "accessLogs", "includeCookies"], "yes"),
        "cdn.accessLogs.includeCookies",
        "valid boolean",
    ),
    "hsts-preload-short": (
        "prod",
        lambda c: c[CDN].update({"hstsPreload": True, "hstsMaxAgeSeconds": 86400}),
        "cdn.hstsPreload",
        "hstsMaxAgeSeconds >= 31536000",
    ),
    "hsts-preload-a-string": (
        "staging",
        set_([CDN, "hstsPreload"], "true"),
        "cdn.hstsPreload",
        "valid boolean",
    ),
    "hsts-zero": (
        "staging",
        set_([CDN, "hstsMaxAgeSeconds"], 0),
        "cdn.hstsMaxAgeSeconds",
        "greater than or equal to 1",
    ),
    "frame-options-lowercase": (
        "staging",
        set_([CDN, "frameOptions"], "deny"),
        "cdn.frameOptions",
        "'DENY' or 'SAMEORIGIN'",
    ),
    "referrer-policy-unknown": (
        "prod",
        set_([CDN, "referrerPolicy"], "never"),
        "cdn.referrerPolicy",
        "strict-origin",
    ),
    "assets-pattern-everything": (
        "prod",
        set_([CDN, "assetsPathPattern"], "/*"),
        "cdn.assetsPathPattern",
        "not be '/*'",
    ),
    "assets-ttl-two-years": (
        "staging",
        set_([CDN, "assetsTtlSeconds"], 63_072_000),
        "cdn.assetsTtlSeconds",
        "less than or equal to 31536000",
    ),
    "assets-prefix-injection": (
        "staging",
        set_([CDN, "assetsPathPrefix"], '/a") or true or ("/'),
        "cdn.assetsPathPrefix",
        "no quotes",
    ),
    "zone-id-a-domain": (
        "staging",
        set_([CDN, "zoneId"], "example.com"),
        "cdn.zoneId",
        "Cloudflare zone ID",
    ),
    "zone-id-a-number": ("staging", set_([CDN, "zoneId"], 12345), "cdn.zoneId", "valid string"),
    "zone-id-missing": ("staging", delete([CDN, "zoneId"]), "cdn.zoneId", "Field required"),
    "tls-1-0": (
        "staging",
        set_([CDN, "minTlsVersion"], "1.0"),
        "cdn.minTlsVersion",
        "'1.2' or '1.3'",
    ),
    "tls-a-number": (
        "staging",
        set_([CDN, "minTlsVersion"], 1.3),
        "cdn.minTlsVersion",
        "'1.2' or '1.3'",
    ),
    "cdn-a-string": ("prod", set_([CDN], "cloudfront"), "cdn", "Input should be"),
}


@pytest.mark.parametrize("case", sorted(BAD_STACKS))
def test_bad_cdn_config_exits_2_naming_file_and_key(case, write_stack, tmp_path, capsys):
    stack, mutate, key_path, message = BAD_STACKS[case]
    document = load_stack_file(stack)
    mutate(document["config"])
    path = write_stack(stack, document)
    out = tmp_path / "out"
    code = synth.main(["--stack", stack, "--config-file", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"Pulumi.{stack}.yaml: invalid stack configuration" in err
    assert "Traceback" not in err
    prefix = f"webplatform:{key_path}:"
    lines = [re.sub(r"\[(\d+)\]", r".\1", ln.strip()) for ln in err.splitlines()]  # aliases[0]
    line = next((ln for ln in lines if ln.startswith(prefix)), None)
    assert line is not None, err
    assert message in line, line
    assert not out.exists(), "nothing may be written for an invalid stack"


# --- import cost, exports, the provider token ---------------------------------------------


def test_only_a_stack_that_uses_cloudflare_imports_pulumi_cloudflare(sdk_imports):
    """In one fresh process (tests/conftest.py), dev then prod: neither loads Cloudflare.

    That the Cloudflare stack does load it is shown by its resources (test above).
    """
    report = sdk_imports
    assert report["import webplatform"] == []  # the CDN classes are lazy re-exports
    assert report["import infra.config"] == []  # the CDN models import no SDK
    assert "pulumi_cloudflare" not in report["dev"]
    assert "pulumi_cloudflare" not in report["prod"]
    assert "pulumi_aws" in report["prod"]  # control: the check does see the SDK a stack loads


def test_cdn_classes_are_lazy_re_exports_listed_in_all():
    import webplatform as components
    from webplatform.edge import cloudflare as cdn_cloudflare
    from webplatform.edge import cloudfront as cdn_cloudfront

    assert components.CloudFrontCdn is cdn_cloudfront.CloudFrontCdn
    assert components.CloudFrontCdnArgs is cdn_cloudfront.CloudFrontCdnArgs
    assert components.CloudFrontSettings is cdn_cloudfront.CloudFrontSettings
    assert components.CloudflareEdge is cdn_cloudflare.CloudflareEdge
    assert components.CloudflareEdgeArgs is cdn_cloudflare.CloudflareEdgeArgs
    assert components.CloudflareSettings is cdn_cloudflare.CloudflareSettings
    assert set(components.__all__) <= set(dir(components))
    assert {"CloudFrontCdn", "CloudflareEdge", "CloudFrontSettings"} <= set(components.__all__)


def test_unknown_attribute_of_components_is_an_attribute_error():
    import webplatform as components

    with pytest.raises(AttributeError, match="has no attribute 'CloudFront'"):
        _ = components.CloudFront


def _raw(stack, drop=()):
    raw = {
        k: v if isinstance(v, str) else json.dumps(v)
        for k, v in load_stack_file(stack)["config"].items()
        if k not in drop
    }
    raw["webplatform:webDatabaseUrl"] = "x"
    if stack != "dev":
        raw["webplatform:alertsSlackWebhookUrl"] = "x"  # the alert receiver's, a secret
    return raw


def test_cdn_defaults_to_none_when_the_key_is_absent():
    config = parse("dev", _raw("dev", drop=(CDN,)), {"webplatform:webDatabaseUrl"})
    assert config.cdn == NoCdn(provider="none")


def test_cloudflare_token_is_accepted_as_a_secret_and_rejected_in_plain_text():
    raw = _raw("staging")
    raw["cloudflare:apiToken"] = "token"
    secrets = {"webplatform:webDatabaseUrl", "webplatform:alertsSlackWebhookUrl"}
    assert parse("staging", raw, secrets | {"cloudflare:apiToken"}).cdn.provider == "cloudflare"
    with pytest.raises(StackConfigError, match=r"cloudflare:apiToken: is stored in plain text"):
        parse("staging", raw, secrets)
