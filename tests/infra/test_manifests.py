"""Every rendered object validated, strictly, against the cluster version's OpenAPI schema."""

import kubernetes_validate
import pytest
import yaml

from infra import synth
from tests.conftest import STACKS, load_stack_file

#: Kinds defined by CRDs the cluster add-ons install: no OpenAPI schema here to check them
#: against; their content is asserted in the add-ons' own tests.
CUSTOM_KINDS = {("cert-manager.io/v1", "ClusterIssuer")}


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_is_valid_for_the_stack_cluster_version(stack, tmp_path):
    manifests, _ = synth.write(synth.synthesize(stack), tmp_path)
    version = load_stack_file(stack)["config"]["webplatform:kubernetes"]["version"]
    objects = list(yaml.safe_load_all(manifests.read_text()))
    assert {o["kind"] for o in objects} >= {
        "Namespace",
        "Deployment",
        "Service",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
    }
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in CUSTOM_KINDS:
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
