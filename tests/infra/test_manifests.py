"""Every rendered object validated, strictly, against the cluster version's OpenAPI schema.

Custom resources are not in that schema: they are validated against their CRDs
by ``test_crds.py``; here they are only checked to have a CRD schema there.
"""

import kubernetes_validate
import pytest
import yaml

from infra import synth
from tests import crds
from tests.conftest import STACKS, load_stack_file, synthesized


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stack_cluster_version(stack, tmp_path):
    manifests, _ = synth.write(synthesized(stack), tmp_path)
    version = load_stack_file(stack)["config"]["webplatform:kubernetes"]["version"]
    objects = list(yaml.safe_load_all(manifests.read_text()))
    # dev's Secret comes from Pulumi; elsewhere External Secrets Operator writes it in the cluster.
    secrets = {"Secret"} if stack == "dev" else {"SecretStore", "ExternalSecret"}
    assert {o["kind"] for o in objects} >= {
        "Namespace",
        "Deployment",
        "Service",
        "ConfigMap",
        "ServiceAccount",
        *secrets,
    }
    for obj in objects:
        if crds.is_custom(obj):
            key = (obj["apiVersion"], obj["kind"])
            assert key in crds.schemas() or key in crds.UNSCHEMED, obj["kind"]
            continue
        kubernetes_validate.validate(obj, f"{version}.0", strict=True)


def test_strict_validation_would_catch_an_unknown_field():
    bad = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "data": {},
        "dta": {},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, "1.33.0", strict=True)
