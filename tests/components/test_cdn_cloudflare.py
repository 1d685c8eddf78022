"""The Cloudflare edge component alone, under mocks: every setting of issue 7, and bad input."""

from collections import Counter

import pytest

from webplatform import CloudflareEdge, CloudflareEdgeArgs, testing

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
        "origin_host": "origin.example.com",
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


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"zone_id": "example.com"}, "zone_id='example.com': must be a Cloudflare zone ID"),
        ({"host": "staging.example.com."}, "fully qualified host name"),
        ({"origin_host": "staging.example.com"}, "must differ from the host"),
        ({"content_security_policy": "img-src *"}, "must set default-src"),
        ({"min_tls_version": "1.0"}, "min_tls_version='1.0': must be one of '1.2', '1.3'"),
        ({"assets_path_prefix": "/assets"}, "must be a path like '/assets/'"),
        ({"assets_path_prefix": '/a") or true or ("/'}, "no quotes"),
        ({"assets_ttl_seconds": 0}, "assets_ttl_seconds=0: must be positive"),
        ({"referrer_policy": "always"}, "referrer_policy='always'"),
    ],
)
def test_bad_arguments_raise_naming_field_value_and_rule(overrides, message):
    with pytest.raises(ValueError) as error:
        build(**overrides)
    assert message in str(error.value)
