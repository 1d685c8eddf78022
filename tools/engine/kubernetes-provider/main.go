// pulumi-resource-kubernetes built from the module cache: the upstream main
// embeds files that `go generate` makes (git-ignored, so absent from the
// module zip); this one embeds the committed schema.json and
// terraform-mapping.json, copied beside it by tools/engine/build.py with the
// schema's "version" field set.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var pulumiSchema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
