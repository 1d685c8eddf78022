// Wrapper for kube-apiserver, kube-controller-manager, kube-scheduler and
// kubectl. k8s.io/kubernetes replaces every k8s.io/* staging module with
// ./staging/src/k8s.io/*; build.py derives the list from that version's
// go.mod and replaces each with the published k8s.io/<name> v0.<minor>.<patch>,
// and copies its godebug line.
module webplatform.local/engine/kubernetes

go 1.25.0

require k8s.io/kubernetes VERSION
