// Wrapper for kwok (fake nodes and pods). Its default stages are copied from
// the module's kustomize/stage/ by build.py.
module webplatform.local/engine/kwok

go 1.26.0

require sigs.k8s.io/kwok VERSION
