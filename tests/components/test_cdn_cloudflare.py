"""The Cloudflare edge component alone, under mocks: every setting of issue 7, and bad input."""

from collections import Counter

import pytest
from pydantic import ValidationError

from webplatform import CloudflareEdge, CloudflareEdgeArgs, CloudflareSettings, testing

ZONE = "0123456789abcdef0123456789abcdef"
CSP = "default-src 'self'; frame-ancestors 'none'"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
RULESET = "cloudflare:index/ruleset:Ruleset"
ONE_YEAR = 31_536_000


def build(**overrides):
    kwargs = {
        "zone_id": ZONE,
        "host": "staging.example.com",
        "origin_address": "origin.example.com",
        "content_security_policy": CSP,
        **overrides,
    }
    return testing.run(lambda: CloudflareEdge("cdn", CloudflareEdgeArgs(**kwargs)))


def test_the_host_is_a_proxied_cname_to_the_origin():
    record = build().one(RECORD).inputs
    assert record == {
        "zoneId": ZONE,
        "name": "staging.example.com",
        "type": "CNAME",
        "content": "origin.example.com",
        "proxied": True,
        "ttl": 1,
        "comment": "Managed by Pulumi (webplatform)",
    }


def test_aliases_get_their_own_proxied_records():
    rec = build(aliases=("www.staging.example.com",))
    records = {r.name: r.inputs for r in rec.by_type(RECORD)}
    assert set(records) == {"cdn-dns-record", "cdn-dns-record-www-staging-example-com"}
    assert all(r["proxied"] is True for r in records.values())


def test_zone_settings_force_https_tls_1_2_and_strict_ssl():
    settings = {r.inputs["settingId"]: r.inputs for r in build().by_type(SETTING)}
    assert {k: v["value"] for k, v in settings.items()} == {
        "always_use_https": "on",
        "min_tls_version": "1.2",
        "ssl": "strict",
        "automatic_https_rewrites": "on",
    }
    assert {v["zoneId"] for v in settings.values()} == {ZONE}


def test_one_entry_point_ruleset_per_phase_holds_all_rules_of_that_phase():
    rec = build(aliases=("www.staging.example.com",))
    rulesets = rec.by_type(RULESET)
    phases = Counter((r.inputs["zoneId"], r.inputs["phase"]) for r in rulesets)
    assert phases == {
        (ZONE, "http_request_cache_settings"): 1,
        (ZONE, "http_response_headers_transform"): 1,
    }
    assert {r.inputs["kind"] for r in rulesets} == {"zone"}  # zone entry points, not custom


def test_assets_are_cached_a_year_at_the_edge_and_in_browsers():
    cache = build().one(RULESET, "cdn-cache-rules").inputs
    assert cache["phase"] == "http_request_cache_settings"
    (rule,) = cache["rules"]
    assert rule["action"] == "set_cache_settings"
    assert rule["expression"] == (
        'http.host in {"staging.example.com"} and starts_with(http.request.uri.path, "/assets/")'
    )
    assert "matches" not in rule["expression"]  # the regex operator needs a Business plan
    params = rule["actionParameters"]
    assert params["cache"] is True
    assert params["edgeTtl"] == {"mode": "override_origin", "default": ONE_YEAR}
    assert params["browserTtl"] == {"mode": "override_origin", "default": ONE_YEAR}
    assert rule["enabled"] is True


def test_security_headers_and_hsts_are_one_transform_rule_with_a_headers_map():
    headers = build().one(RULESET, "cdn-response-headers").inputs
    assert headers["phase"] == "http_response_headers_transform"
    (rule,) = headers["rules"]
    assert rule["action"] == "rewrite"
    assert rule["expression"] == 'http.host in {"staging.example.com"}'
    assert rule["actionParameters"]["headers"] == {
        "Strict-Transport-Security": {
            "operation": "set",
            "value": "max-age=31536000; includeSubDomains",
        },
        "X-Frame-Options": {"operation": "set", "value": "DENY"},
        "X-Content-Type-Options": {"operation": "set", "value": "nosniff"},
        "Referrer-Policy": {"operation": "set", "value": "strict-origin-when-cross-origin"},
        "Content-Security-Policy": {"operation": "set", "value": CSP},
    }
    assert "X-XSS-Protection" not in rule["actionParameters"]["headers"]


def test_rules_match_only_this_components_host_names():
    rec = build(aliases=("www.staging.example.com",))
    for ruleset in rec.by_type(RULESET):
        (rule,) = ruleset.inputs["rules"]
        assert rule["expression"].startswith(
            'http.host in {"staging.example.com" "www.staging.example.com"}'
        )


def test_hsts_preload_and_tls_1_3_when_asked():
    rec = build(hsts_preload=True, min_tls_version="1.3")
    (rule,) = rec.one(RULESET, "cdn-response-headers").inputs["rules"]
    hsts = rule["actionParameters"]["headers"]["Strict-Transport-Security"]["value"]
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    tls = [r for r in rec.by_type(SETTING) if r.inputs["settingId"] == "min_tls_version"]
    assert tls[0].inputs["value"] == "1.3"


def test_children_are_parented_and_the_output_is_the_proxied_host():
    rec = build()
    component = rec.one("webplatform:cdn_cloudflare:CloudflareEdge")
    children = rec.children(component)
    assert Counter(c.type for c in children) == {RECORD: 1, SETTING: 4, RULESET: 2}
    assert all(c.name.startswith("cdn-") for c in children)
    assert component.outputs["domain_name"] == "staging.example.com"


def test_the_origin_address_may_be_an_output_wired_from_another_resource():
    import pulumi

    def program():
        address = pulumi.Output.from_input("lb-123.elb.us-west-2.amazonaws.com")
        CloudflareEdge("cdn", CloudflareEdgeArgs(**{**BASE, "origin_address": address}))

    record = testing.run(program).one(RECORD).inputs
    assert record["content"] == "lb-123.elb.us-west-2.amazonaws.com"


BASE = {
    "zone_id": ZONE,
    "host": "staging.example.com",
    "origin_address": "origin.example.com",
    "content_security_policy": CSP,
}


def blamed(problem):
    """The key an error is about: pydantic's loc, plus the key a model validator named."""
    error = (problem.get("ctx") or {}).get("error")
    return tuple(problem["loc"]) + tuple(getattr(error, "loc", ()))


BAD = [
    ({"zone_id": "example.com"}, ("zone_id",), "must be a Cloudflare zone ID"),
    ({"zone_id": ZONE.upper()}, ("zone_id",), "32 lowercase hex"),
    ({"zone_id": ZONE[:-1]}, ("zone_id",), "32 lowercase hex"),
    ({"host": "staging.example.com."}, ("host",), "fully qualified host name"),
    ({"host": "*.example.com"}, ("host",), "fully qualified host name"),
    ({"aliases": ("staging.example.com",)}, ("aliases",), "listed twice or equals the host"),
    ({"aliases": ("a.example.com", "a.example.com")}, ("aliases",), "listed twice"),
    ({"aliases": ("A.example.com",)}, ("aliases", 0), "lowercase"),
    ({"origin_address": "staging.example.com"}, ("origin_address",), "own origin"),
    (
        {"origin_address": "www.example.com", "aliases": ("www.example.com",)},
        ("origin_address",),
        "public names",
    ),
    ({"origin_address": "https://lb.example.com"}, ("origin_address",), "fully qualified"),
    ({"origin_address": "203.0.113.7"}, ("origin_address",), "fully qualified"),
    ({"content_security_policy": "img-src *"}, ("content_security_policy",), "default-src"),
    ({"content_security_policy": "   "}, ("content_security_policy",), "is required"),
    ({"min_tls_version": "1.0"}, ("min_tls_version",), "'1.2' or '1.3'"),
    ({"min_tls_version": 1.2}, ("min_tls_version",), "'1.2' or '1.3'"),
    ({"assets_path_prefix": "/assets"}, ("assets_path_prefix",), "must be a path like '/assets/'"),
    ({"assets_path_prefix": '/a") or true or ("/'}, ("assets_path_prefix",), "no quotes"),
    ({"assets_path_prefix": "/"}, ("assets_path_prefix",), "not '/' alone"),
    ({"assets_path_prefix": "/my assets/"}, ("assets_path_prefix",), "spaces"),
    ({"assets_ttl_seconds": 0}, ("assets_ttl_seconds",), "greater than or equal to 1"),
    ({"assets_ttl_seconds": "31536000"}, ("assets_ttl_seconds",), "valid integer"),
    ({"referrer_policy": "always"}, ("referrer_policy",), "no-referrer"),
    ({"frame_options": "ALLOWALL"}, ("frame_options",), "'DENY' or 'SAMEORIGIN'"),
    ({"hsts_preload": True, "hsts_max_age_seconds": 600}, ("hsts_preload",), "hstsMaxAgeSeconds"),
    ({"hsts_max_age_seconds": -1}, ("hsts_max_age_seconds",), "greater than or equal to 1"),
    ({"hsts_include_subdomains": "on"}, ("hsts_include_subdomains",), "valid boolean"),
    ({"ssl": "flexible"}, ("ssl",), "Extra inputs are not permitted"),
    ({"origin_host": "origin.example.com"}, ("origin_host",), "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("overrides", "loc", "message"), BAD, ids=lambda v: repr(v)[:60])
def test_bad_arguments_blame_one_key_with_the_rule(overrides, loc, message):
    with pytest.raises(ValidationError) as error:
        CloudflareEdgeArgs(**{**BASE, **overrides})
    (problem,) = error.value.errors()
    assert blamed(problem) == loc
    assert message in problem["msg"]


def test_a_zone_id_of_the_wrong_type_is_refused_not_coerced():
    with pytest.raises(ValidationError) as error:
        CloudflareEdgeArgs(**{**BASE, "zone_id": 123})
    problems = error.value.errors()
    # Input[str]: a str or an Output; pydantic reports both members of the union.
    assert {p["loc"][0] for p in problems} == {"zone_id"}
    assert any("valid string" in p["msg"] for p in problems)


def test_a_bad_argument_registers_nothing():
    with pytest.raises(ValidationError):
        testing.run(
            lambda: CloudflareEdge("cdn", CloudflareEdgeArgs(**{**BASE, "zone_id": "nope"}))
        )


def test_the_settings_model_holds_no_host_names():
    """In a stack the proxied names are the app's route hosts: never a second list."""
    assert {"host", "aliases"}.isdisjoint(CloudflareSettings.model_fields)
    assert set(CloudflareEdgeArgs.model_fields) - set(CloudflareSettings.model_fields) == {
        "host",
        "aliases",
        "origin_address",  # the Gateway's address, wired by the stack (issue 19)
        "origin_header",
    }
    defaults = CloudflareSettings(zone_id=ZONE, content_security_policy=CSP)
    assert (defaults.min_tls_version, defaults.assets_path_prefix) == ("1.2", "/assets/")
    assert all(f.description for f in CloudflareEdgeArgs.model_fields.values())


def test_the_docstring_says_how_to_adopt_an_existing_entry_point_ruleset():
    from webplatform.edge import cloudflare

    doc = cloudflare.__doc__
    assert "already has an entry-point ruleset" in doc
    # pulumi-cloudflare v6's import ID (its docs: '<{accounts|zones}/{account_id|zone_id}>/<id>').
    assert "pulumi import cloudflare:index/ruleset:Ruleset" in doc
    assert "zones/<zone_id>/<ruleset_id>" in doc


# --- issue 19: the secret origin header and the origin's certificate --------------------------


def test_the_origin_header_is_set_late_on_the_proxied_hosts_only_as_a_secret():
    import pulumi

    from webplatform.edge.origin import OriginHeader

    rec = build(origin_header=OriginHeader(value=pulumi.Output.secret("origin-secret-value")))
    [late] = [r for r in rec.by_type(RULESET) if r.inputs["phase"] == "http_request_late_transform"]
    [rule] = late.inputs["rules"]
    assert rule["expression"] == 'http.host in {"staging.example.com"}'
    assert rule["action"] == "rewrite"
    header = rule["actionParameters"]["headers"]["x-origin-verify"]
    assert header == {"operation": "set", "value": "origin-secret-value"}
    assert late.is_secret("rules[0].actionParameters.headers.x-origin-verify.value")
    assert late.inputs["zoneId"] == ZONE


def test_without_an_origin_header_there_is_no_request_ruleset():
    phases = {r.inputs["phase"] for r in build().by_type(RULESET)}
    assert "http_request_late_transform" not in phases


def test_the_origin_certificate_is_an_origin_ca_certificate_for_the_route_hosts():
    from webplatform.edge.cloudflare import (
        CloudflareOriginCertificate,
        CloudflareOriginCertificateArgs,
    )

    holder = {}

    def program():
        holder["c"] = CloudflareOriginCertificate(
            "origin",
            CloudflareOriginCertificateArgs(hostnames=("staging.example.com",)),
        )

    rec = testing.run(program)
    key = rec.one("tls:index/privateKey:PrivateKey").inputs
    assert key == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}
    csr = rec.one("tls:index/certRequest:CertRequest")
    assert csr.inputs["dnsNames"] == ["staging.example.com"]
    assert csr.is_secret("privateKeyPem")
    cert = rec.one("cloudflare:index/originCaCertificate:OriginCaCertificate").inputs
    assert (cert["hostnames"], cert["requestType"], cert["requestedValidity"]) == (
        ["staging.example.com"],
        "origin-ecc",
        5475,
    )
    component = rec.one("webplatform:cdn_cloudflare:CloudflareOriginCertificate")
    assert {r.name for r in rec.children(component)} == {
        "origin-key",
        "origin-csr",
        "origin-certificate",
    }
