# shellcheck shell=bash
# Grafana for the native test bed: defines build_grafana. build.sh sources this file; sourced on its
# own, it sources build.sh for the qw_* helpers (build.sh runs nothing when sourced).
#
# The Go module proxy this project reaches refuses github.com/grafana/grafana (every version, every
# nested module such as pkg/apimachinery) and github.com/grafana/grafana-app-sdk, which Grafana 12
# requires, with "403 This module version is not available". No other reachable registry ships a
# Grafana server. So build_grafana does not build: it asks the proxy and returns 3, "not available on
# this machine", for build.sh to report as a skip. The recipe to use if the proxy ever serves these
# modules is in README-grafana.md. Return codes:
#   0  already installed: $QW_CACHE/bin/grafana-$GRAFANA_VERSION/grafana runs `--version`
#   3  the proxy refuses the modules (the state on every machine seen so far)
#   1  anything else: the probe failed another way, or the proxy serves the modules and the build
#      step still has to be written (see README-grafana.md)

if ! declare -F qw_begin >/dev/null; then
  # shellcheck source-path=SCRIPTDIR source=build.sh
  source "$(dirname "${BASH_SOURCE[0]}")/build.sh"
fi

QW_GRAFANA_UNAVAILABLE=3

# Ask for the modules Grafana 12 cannot build without: the root at GRAFANA_COMMIT (any version while
# none is pinned) and the app SDK at any version.
_qw_grafana_probe() {
  local rc=0
  go list -m "github.com/grafana/grafana@${GRAFANA_COMMIT:-latest}" || rc=1
  go list -m github.com/grafana/grafana-app-sdk@latest || rc=1
  return "$rc"
}

build_grafana() {
  local v=${GRAFANA_VERSION:-unpinned} name=grafana log rc=0
  qw_cached "$name" "$v" grafana && return 0
  qw_begin "$name" "$v"
  log=$(qw_log_file "$name" "$v")
  qw_step "$name" "$v" "asking the Go module proxy for Grafana and its app SDK"
  # qw_run_logged's own failure report is silenced: the known refusal is a skip, not an error.
  qw_run_logged "$name" "$v" _qw_grafana_probe 2>/dev/null || rc=$?
  if grep -q 'This module version is not available' "$log"; then
    printf '%s %s: SKIPPED: the Go module proxy refuses Grafana here (log: %s);' "$name" "$v" "$log" >&2
    printf ' see tests/testbed/README-grafana.md\n' >&2
    return "$QW_GRAFANA_UNAVAILABLE"
  fi
  tail -n 20 "$log" >&2
  if ((rc != 0)); then
    printf '%s %s: FAILED: the module proxy probe failed (log: %s)\n' "$name" "$v" "$log" >&2
  else
    printf '%s %s: FAILED: the proxy serves Grafana now, but the build step is not written yet' "$name" "$v" >&2
    printf ' (follow tests/testbed/README-grafana.md; log: %s)\n' "$log" >&2
  fi
  return 1
}
