#!/usr/bin/env bash
# The tools of the Kubernetes checks (python -m deploy.check), built into the test bed's cache with
# the helpers of testbed/build.sh; `make testbed` runs this after the servers.
#
# Usage: deploy/tools.sh   (progress on stderr, nothing on stdout)
#
#   kubeconform   KUBECONFORM_VERSION of deploy/versions.env, `go install`ed into bin/kubeconform-VERSION/
#   kubecheck     deploy/check (strict decoding into the Prometheus Operator's Go types): its ~130
#                 modules downloaded and compiled into GOMODCACHE/GOCACHE. The check builds the
#                 program from the repository's source each time it runs (about 2 s on a warm cache),
#                 so an edit to it is never met by a stale binary.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../testbed/build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../testbed/build.sh"
# shellcheck source-path=SCRIPTDIR source=versions.env
source "$QW_REPO/deploy/versions.env"

build_kubeconform() {
  local v=$KUBECONFORM_VERSION name=kubeconform dir out
  dir=$(qw_bin_dir "$name" "$v")
  # kubeconform answers -v, not the --version qw_cached asks.
  if [[ -x $dir/kubeconform ]] && [[ $("$dir/kubeconform" -v 2>/dev/null) == "v$v" ]]; then
    printf '%s %s: cached\n' "$name" "$v" >&2
    return 0
  fi
  qw_begin "$name" "$v"
  out=$(qw_src_dir "$name" "$v")
  rm -rf "$out"
  mkdir -p "$out"
  qw_step "$name" "$v" "go install github.com/yannh/kubeconform/cmd/kubeconform@v$v"
  qw_run_logged "$name" "$v" env CGO_ENABLED=0 GOBIN="$out" go install -v -trimpath \
    -ldflags "-s -w -X main.version=v$v" "github.com/yannh/kubeconform/cmd/kubeconform@v$v"
  qw_install "$name" "$v" "$out/kubeconform"
  rm -rf "$out"
  qw_done "$name" "$v"
}

build_kubecheck() {
  local name=kubecheck v
  v=$(awk '$1 == "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring" { print $2 }' "$QW_REPO/deploy/check/go.mod")
  qw_begin "$name" "$v"
  qw_step "$name" "$v" "go build deploy/check (Prometheus Operator API types $v): modules and build cache"
  # -mod=readonly: the committed go.mod and go.sum are the pins; a build never rewrites them.
  qw_run_logged "$name" "$v" env -C "$QW_REPO/deploy/check" CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -v -o /dev/null .
  qw_done "$name" "$v"
}

main() {
  command -v go >/dev/null || {
    echo "deploy/tools.sh: the Kubernetes checks need Go (kubeconform and deploy/check are built from their modules)" >&2
    return 1
  }
  QW_REPORT=/dev/null
  build_kubeconform
  build_kubecheck
}

main "$@"
