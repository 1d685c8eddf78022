"""Issue 22's additive options on shared components: secret replicas with a key per region,
and CloudFront's failover origin. Each is off by default and changes nothing when off."""

import json

import pulumi
import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from webplatform import AppSecrets, AppSecretsArgs, CloudFrontCdn, CloudFrontCdnArgs, testing
from webplatform.edge.cloudfront import FAILOVER_ORIGIN_ID, ORIGIN_GROUP_ID, ORIGIN_ID

KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
DIST = "aws:cloudfront/distribution:Distribution"
ACCOUNT = testing.MOCK_ACCOUNT_ID
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"


def secrets(**overrides):
    args = {
        "app": "web",
        "secret_name": "web-production/web",
        "keys": ["DATABASE_URL"],
        "key_admin_arns": [ADMIN],
    }
    args.update(overrides)
    return testing.run(
        lambda: AppSecrets("web-secrets", AppSecretsArgs(**args)),
        config={"aws:region": "us-west-2"},
    )


def test_each_replica_region_gets_its_own_key_there_and_the_secret_a_replica_with_it():
    rec = secrets(replica_regions=["us-east-2", "eu-west-1"], protect=True)
    primary = rec.one(KEY, "web-secrets-key")
    for region in ("us-east-2", "eu-west-1"):
        key = rec.one(KEY, f"web-secrets-key-{region}")
        assert key.inputs["region"] == region
        assert key.protect is True  # as protected as the primary key
        assert key.parent == rec.one("webplatform:secrets:AppSecrets").urn
        # the same description: the recovery stack adopts it as its own key with no diff
        assert key.inputs["description"] == primary.inputs["description"]
        assert key.inputs["enableKeyRotation"] is True
        assert key.inputs.get("multiRegion") is not True  # per-region keys (see _replicas)
        statements = {st["Sid"]: st for st in json.loads(key.inputs["policy"])["Statement"]}
        primary_sids = {st["Sid"] for st in json.loads(primary.inputs["policy"])["Statement"]}
        assert set(statements) == primary_sids  # the primary's policy, in its own region
        use = statements["UseKeyOnlyThroughSecretsManager"]
        assert use["Condition"]["StringEquals"]["kms:ViaService"] == (
            f"secretsmanager.{region}.amazonaws.com"
        )
    replicas = rec.one(SECRET).inputs["replicas"]
    assert [r["region"] for r in replicas] == ["us-east-2", "eu-west-1"]
    assert (
        replicas[0]["kmsKeyId"]
        == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/web-secrets-key-us-east-2-id"
    )
    # the primary key is untouched: still single-region, still its own region
    assert "region" not in primary.inputs and primary.inputs.get("multiRegion") is not True


def test_without_replica_regions_nothing_changes():
    rec = secrets()
    assert [r.name for r in rec.by_type(KEY)] == ["web-secrets-key"]
    assert "replicas" not in rec.one(SECRET).inputs


@pytest.mark.parametrize(
    ("regions", "message"),
    [(["us-east-2", "us-east-2"], "listed twice"), (["Ohio"], "not AWS region names")],
)
def test_bad_replica_regions_are_refused(regions, message):
    with pytest.raises(ValidationError, match=message):
        AppSecretsArgs(
            app="web",
            secret_name="a/b",
            keys=["A"],
            key_admin_arns=[ADMIN],
            replica_regions=regions,
        )


def cdn(**overrides):
    def program():
        east = aws.Provider("east", region="us-east-1")
        CloudFrontCdn(
            "cdn",
            CloudFrontCdnArgs(
                host="www.example.com",
                origin_host="origin.example.com",
                content_security_policy="default-src 'self'",
                us_east_1_provider=east,
                **overrides,
            ),
        )

    return testing.run(program).one(DIST).inputs


def test_a_failover_origin_is_a_second_https_origin_and_an_origin_group_for_reads():
    dist = cdn(failover_origin_host="origin-dr.example.com")
    origins = {o["originId"]: o for o in dist["origins"]}
    assert set(origins) == {ORIGIN_ID, FAILOVER_ORIGIN_ID}
    assert origins[FAILOVER_ORIGIN_ID]["domainName"] == "origin-dr.example.com"
    # the same transport as the primary (HTTPS only, TLS 1.2): only the id and host differ
    primary = {k: v for k, v in origins[ORIGIN_ID].items() if k not in ("originId", "domainName")}
    other = {
        k: v for k, v in origins[FAILOVER_ORIGIN_ID].items() if k not in ("originId", "domainName")
    }
    assert (
        other == primary and primary["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    )
    (group,) = dist["originGroups"]
    assert [m["originId"] for m in group["members"]] == [ORIGIN_ID, FAILOVER_ORIGIN_ID]
    assert group["failoverCriteria"]["statusCodes"] == [500, 502, 503, 504]
    # reads (the only methods CloudFront fails over) go through the group; the rest stays primary
    (assets,) = dist["orderedCacheBehaviors"]
    assert assets["targetOriginId"] == ORIGIN_GROUP_ID
    assert set(assets["allowedMethods"]) <= {"GET", "HEAD", "OPTIONS"}
    assert dist["defaultCacheBehavior"]["targetOriginId"] == ORIGIN_ID


def test_active_origin_failover_moves_the_default_behaviour_by_config_alone():
    dist = cdn(failover_origin_host="origin-dr.example.com", active_origin="failover")
    assert dist["defaultCacheBehavior"]["targetOriginId"] == FAILOVER_ORIGIN_ID


def test_without_a_failover_origin_the_distribution_is_unchanged():
    dist = cdn()
    assert [o["originId"] for o in dist["origins"]] == [ORIGIN_ID]
    assert "originGroups" not in dist
    assert dist["orderedCacheBehaviors"][0]["targetOriginId"] == ORIGIN_ID


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"active_origin": "failover"}, "active_origin", "needs failover_origin_host"),
        ({"failover_origin_host": "www.example.com"}, "failover_origin_host", "public names"),
        ({"failover_origin_host": "origin.example.com"}, "failover_origin_host", "is the primary"),
    ],
)
def test_bad_failover_settings_blame_their_key(overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        CloudFrontCdnArgs(
            host="www.example.com",
            origin_host="origin.example.com",
            content_security_policy="default-src 'self'",
            us_east_1_provider=pulumi.ProviderResource("aws", "east", {}),
            **overrides,
        )
    (problem,) = caught.value.errors()
    assert message in problem["msg"]
    assert problem["ctx"]["error"].loc == (field,)  # the key a stack file would fix
