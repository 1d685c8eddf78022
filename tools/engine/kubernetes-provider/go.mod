// Wrapper for pulumi-resource-kubernetes: main.go beside this file embeds the
// module's committed schema.json and terraform-mapping.json (build.py copies
// them in, with the schema's version set).
module webplatform.local/engine/pulumi-resource-kubernetes

go 1.24.7

require github.com/pulumi/pulumi-kubernetes/provider/v4 VERSION
