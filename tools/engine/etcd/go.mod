// Wrapper for etcd: go.etcd.io/etcd/server/v3 is a main package; its go.mod
// has only local replaces, whose published versions match the tag.
module webplatform.local/engine/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 VERSION
