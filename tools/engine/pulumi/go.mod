// Wrapper for the Pulumi CLI. build.py copies this file to a work directory,
// adds the non-local replace lines of pkg/v3's and sdk/v3's own go.mod (Go
// ignores a dependency's replaces), runs `go mod tidy` and builds
// github.com/pulumi/pulumi/pkg/v3/cmd/pulumi. Versions come from build.py.
module webplatform.local/engine/pulumi

go 1.26.6

require (
	github.com/pulumi/pulumi/pkg/v3 VERSION
	github.com/pulumi/pulumi/sdk/v3 VERSION
)
