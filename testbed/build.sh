#!/usr/bin/env bash
# Build the real server binaries for the native test bed from their Go modules.
#
# Usage: testbed/build.sh [prometheus|alertmanager|victorialogs|thanos|all]   (default: all)
#
# Versions come from compose/versions.env. Everything lives outside the repo, in
# ${QUANTWATCH_CACHE:-$HOME/.cache/quantwatch}, and survives between runs:
#   bin/NAME-VERSION/   installed binaries (the directory appears in one rename: never half there)
#   gomod/  gocache/    GOMODCACHE and GOCACHE
#   src/NAME-VERSION/   writable copy of the module being built (removed after a good build)
#   logs/NAME-VERSION.log  full output of the last build of that server
#   locks/NAME-VERSION.lock  flock: one build of a server at a time (sessions share the cache)
# Never delete the cache while a build may be running (another session's, too): its src/ copy goes
# and that build fails. To start over, remove bin/NAME-VERSION only.
# Progress goes to stderr; stdout gets one `export NAME_BIN_DIR=DIR` line per server at the end, so a
# test runner can do: eval "$(testbed/build.sh 2>/dev/null)".
# Without `go`, Prometheus and Alertmanager come from Debian's (older) packages instead, with a
# warning (see qw_debian_link); VictoriaLogs is then unavailable and the script exits 3.
#
# Helpers for other build scripts (compose/install-compose.sh sources this file; main only runs when
# this file is executed, so sourcing it is safe):
#   qw_begin NAME VERSION            start a server: take its lock, start the clock, reset its log
#   qw_step NAME VERSION MSG...      print "[NAME VERSION +Ns] MSG" on stderr
#   qw_done NAME VERSION             print "NAME VERSION: built in Ns"
#   qw_run_logged NAME VERSION CMD...  run CMD (a command or shell function) with all output appended
#                                    to the log; on failure print the log's last 30 lines and its
#                                    path, and return CMD's status (under set -e that ends the build)
#   qw_cached NAME VERSION [BIN...]  true if bin/NAME-VERSION holds every BIN (default NAME) and each
#                                    runs `--version`; then prints "NAME VERSION: cached" and records it
#   qw_module_copy MODULE VERSION DEST  download MODULE@VERSION and copy it, writable, to DEST
#                                    (DEST is replaced); prints nothing on stdout
#   qw_fill_local_replaces DIR       for each `replace X => ./sub` in DIR/go.mod whose ./sub is missing,
#                                    download X at the version DIR/go.mod requires into DIR/sub
#   qw_check_go_line DIR             fail if DIR/go.mod needs a newer Go than the local one
#   qw_src_dir NAME VERSION          print the build directory: $QW_CACHE/src/NAME-VERSION
#   qw_bin_dir NAME VERSION          print the install directory: $QW_CACHE/bin/NAME-VERSION
#   qw_log_file NAME VERSION         print the log path: $QW_CACHE/logs/NAME-VERSION.log
#   qw_install NAME VERSION FILE...  install FILEs as bin/NAME-VERSION/ atomically and record it
#   qw_prometheus_ldflags VERSION REVISION  -ldflags stamping prometheus/common/version (Prometheus,
#                                    Alertmanager, Thanos)
#   qw_report NAME DIR               record DIR as NAME's bin dir for the closing summary (printed
#                                    at once as `export NAME_BIN_DIR=DIR` when not run from qw_main)
# build_<name> returns 0 when bin/NAME-VERSION is ready, QW_UNAVAILABLE (3) when the server cannot be
# had on this machine at all, anything else on failure. The script exits 1 if a build failed, else 3
# if a server is unavailable (so `make testbed`, and with it `make test`, stops: never a silent skip).
# Globals: QW_REPO (repo root), QW_CACHE, and GOMODCACHE GOCACHE GOFLAGS GOTOOLCHAIN GOWORK exported.
set -euo pipefail

QW_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QW_CACHE=${QUANTWATCH_CACHE:-$HOME/.cache/quantwatch}
export GOMODCACHE=$QW_CACHE/gomod
export GOCACHE=$QW_CACHE/gocache
# -buildvcs=false: a cache placed inside some git checkout must not make `go build` stamp (or fail
# on) that checkout's VCS state.
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local
export GOWORK=off
mkdir -p "$QW_CACHE/bin" "$QW_CACHE/logs" "$QW_CACHE/src" "$GOMODCACHE" "$GOCACHE"

# shellcheck source=/dev/null
source "$QW_REPO/compose/versions.env"

# A build_<name> function returns this when its server cannot be had on this machine at all (no Go
# and no Debian package): reported as UNAVAILABLE, and the script exits with it.
QW_UNAVAILABLE=3

qw_bin_dir() { printf '%s\n' "$QW_CACHE/bin/$1-$2"; }
qw_src_dir() { printf '%s\n' "$QW_CACHE/src/$1-$2"; }
qw_log_file() { printf '%s\n' "$QW_CACHE/logs/$1-$2.log"; }

# The line stdout gets for a server's bin dir, eval-able by a test runner.
_qw_export() { printf 'export %s_BIN_DIR=%q\n' "${1^^}" "$2"; }

# QW_REPORT is a file that qw_main creates, so that builds in subshells can report to it.
qw_report() {
  if [[ -n ${QW_REPORT:-} ]]; then
    printf '%s %s\n' "$1" "$2" >>"$QW_REPORT"
  else
    _qw_export "$1" "$2"
  fi
}

qw_step() {
  local name=$1 version=$2
  shift 2
  printf '[%s %s +%ss] %s\n' "$name" "$version" "$((SECONDS - ${QW_T0:-0}))" "$*" >&2
}

qw_begin() {
  local name=$1 version=$2 lock
  mkdir -p "$QW_CACHE/locks"
  lock=$QW_CACHE/locks/$name-$version.lock
  # One build per server at a time; the lock is released when the (sub)shell exits.
  exec {QW_LOCK_FD}>"$lock"
  if ! flock -n "$QW_LOCK_FD"; then
    printf '[%s %s] waiting for another build of it to finish\n' "$name" "$version" >&2
    flock "$QW_LOCK_FD"
  fi
  QW_T0=$SECONDS
  : >"$(qw_log_file "$name" "$version")"
  qw_step "$name" "$version" "building (log: $(qw_log_file "$name" "$version"))"
}

qw_done() {
  printf '%s %s: built in %ss\n' "$1" "$2" "$((SECONDS - ${QW_T0:-0}))" >&2
}

qw_run_logged() {
  local name=$1 version=$2 log rc=0
  shift 2
  log=$(qw_log_file "$name" "$version")
  printf '+ %s\n' "$*" >>"$log"
  # CMD runs in a subshell with errexit on, so a shell function given as CMD stops at its first
  # failing command. The subshell must not sit in `||`/`if` context, where bash ignores errexit.
  local had_e=0 me=$BASHPID hb
  [[ $- == *e* ]] && had_e=1
  # Heartbeat for long steps: every QW_HEARTBEAT seconds, the elapsed time and the log's length (go
  # build -v logs one line per package). It stops with this shell, even when killed.
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "${QW_HEARTBEAT:-60}" &
      sp=$!
      wait "$sp"
      kill -0 "$me" 2>/dev/null || exit 0
      qw_step "$name" "$version" "still running: $(wc -l <"$log") log lines"
    done
  ) >&2 &
  hb=$!
  set +e
  (
    set -e
    "$@"
  ) >>"$log" 2>&1
  rc=$?
  kill "$hb" 2>/dev/null
  wait "$hb" 2>/dev/null
  ((had_e == 0)) || set -e
  if ((rc != 0)); then
    {
      printf '%s %s: FAILED (exit %s) running: %s\n' "$name" "$version" "$rc" "$*"
      printf -- '--- last 30 lines of %s ---\n' "$log"
      tail -n 30 "$log"
      printf -- '--- full log: %s ---\n' "$log"
    } >&2
  fi
  return "$rc"
}

qw_cached() {
  local name=$1 version=$2 dir bin
  shift 2
  (($# > 0)) || set -- "$name"
  dir=$(qw_bin_dir "$name" "$version")
  for bin in "$@"; do
    [[ -x $dir/$bin ]] || return 1
    "$dir/$bin" --version >/dev/null 2>&1 || return 1
  done
  printf '%s %s: cached\n' "$name" "$version" >&2
  qw_report "$name" "$dir"
}

# The oldest Go that builds every pinned server (their go.mod `go` lines; Prometheus 3.16 is the
# highest). Checked before any build starts, so an old Go is one message, never a late failure.
QW_GO_MIN=1.26.7

# Fail at once, naming both versions, when the local Go is older than QW_GO_MIN.
qw_check_go_min() {
  local have
  have=$(go env GOVERSION)
  have=${have#go}
  if [[ $(printf '%s\n%s\n' "$QW_GO_MIN" "$have" | sort -V | head -n 1) != "$QW_GO_MIN" ]]; then
    printf 'Go %s is too old: the pinned servers need Go %s or newer (GOTOOLCHAIN=local: no toolchain download).\n' "$have" "$QW_GO_MIN" >&2
    printf 'Install a newer Go, or take go off PATH to fall back to Debian'"'"'s older Prometheus and Alertmanager.\n' >&2
    return 1
  fi
}

qw_check_go_line() {
  local dir=$1 need have
  need=$(awk '$1 == "go" { print $2; exit }' "$dir/go.mod")
  have=$(go env GOVERSION)
  have=${have#go}
  if [[ -n $need && $(printf '%s\n%s\n' "$need" "$have" | sort -V | tail -n 1) != "$have" ]]; then
    printf '%s needs Go %s but the local Go is %s (GOTOOLCHAIN=local: no toolchain download)\n' \
      "$dir/go.mod" "$need" "$have" >&2
    return 1
  fi
}

qw_module_copy() {
  local module=$1 version=$2 dest=$3 src
  src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [[ -z $src || ! -d $src ]]; then
    printf 'go mod download %s@%s gave no module directory\n' "$module" "$version" >&2
    return 1
  fi
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -r "$src" "$dest"
  chmod -R u+w "$dest"
}

qw_fill_local_replaces() {
  local dir=$1 old sub required
  # Print "OLD_PATH ./sub" for each replace whose target is a local directory, in one-line
  # `replace X => ./sub` form or inside a `replace ( ... )` block.
  while read -r old sub; do
    [[ -f $dir/$sub/go.mod ]] && continue
    required=$(awk -v m="$old" '
      /^require[[:space:]]*\(/ { inblock = 1; next }
      inblock && /^\)/ { inblock = 0; next }
      inblock && $1 == m { print $2; exit }
      $1 == "require" && $2 == m { print $3; exit }' "$dir/go.mod")
    if [[ -z $required ]]; then
      printf '%s: replace %s => %s but no require line gives its version\n' "$dir/go.mod" "$old" "$sub" >&2
      return 1
    fi
    echo "local replace: $old => $sub, fetching $old@$required"
    qw_module_copy "$old" "$required" "$dir/$sub"
  done < <(awk '
    /^replace[[:space:]]*\(/ { inblock = 1; next }
    inblock && /^\)/ { inblock = 0; next }
    {
      line = $0; sub(/^[[:space:]]+/, "", line); sub(/^replace[[:space:]]+/, "", line)
      if ((inblock || $1 == "replace") && line ~ /=>[[:space:]]*\.\.?\//) {
        split(line, lr, /[[:space:]]*=>[[:space:]]*/); split(lr[1], o, /[[:space:]]+/)
        target = lr[2]; sub(/[[:space:]].*$/, "", target)
        print o[1], target
      }
    }' "$dir/go.mod")
}

qw_install() {
  local name=$1 version=$2 dir tmp f
  shift 2
  dir=$(qw_bin_dir "$name" "$version")
  tmp=$(mktemp -d "$QW_CACHE/bin/.$name-$version.XXXXXX")
  for f in "$@"; do
    cp "$f" "$tmp/"
  done
  chmod 0755 "$tmp" "$tmp"/*
  rm -rf "$dir"
  mv "$tmp" "$dir"
  qw_report "$name" "$dir"
}

# -ldflags for a server that reports its version through github.com/prometheus/common/version
# (Prometheus, Alertmanager, Thanos): stripped, stamped with VERSION and the module version REVISION.
qw_prometheus_ldflags() {
  local pkg=github.com/prometheus/common/version
  printf -- '-s -w -X %s.Version=%s -X %s.Revision=%s -X %s.Branch=HEAD -X %s.BuildUser=quantwatch-testbed -X %s.BuildDate=%s' \
    "$pkg" "$1" "$pkg" "$2" "$pkg" "$pkg" "$pkg" "$(date -u +%Y%m%d-%H:%M:%S)"
}

# Start a fresh writable copy of MODULE@VERSION for NAME, checked against the local Go.
_qw_prepare_src() {
  local name=$1 version=$2 module=$3 modversion=$4 src
  src=$(qw_src_dir "$name" "$version")
  qw_step "$name" "$version" "downloading $module@$modversion"
  qw_run_logged "$name" "$version" qw_module_copy "$module" "$modversion" "$src"
  qw_run_logged "$name" "$version" qw_check_go_line "$src"
  # Module zips keep vendor/modules.txt without the packages, which would select -mod=vendor.
  rm -rf "$src/vendor" "$src/go.work" "$src/go.work.sum"
}

# Build tags for Prometheus: `remove_all_sd` drops the cloud service-discovery plugins (AWS, Azure,
# GCE, ...; their SDKs are most of the build) and keeps static, file and http SD; DNS SD is cheap and
# commonly used, so it is put back. promtool still links Kubernetes SD (it imports it directly).
# Override with QW_PROMETHEUS_TAGS=netgo for a binary with every SD plugin.
QW_PROMETHEUS_TAGS=${QW_PROMETHEUS_TAGS:-netgo,remove_all_sd,enable_dns_sd}

build_prometheus() {
  local v=$PROMETHEUS_VERSION name=prometheus src ldflags
  if ! command -v go >/dev/null; then
    qw_debian_link prometheus prometheus "$v" prometheus promtool
    return
  fi
  qw_cached "$name" "$v" prometheus promtool && return 0
  qw_begin "$name" "$v"
  src=$(qw_src_dir "$name" "$v")
  # Prometheus 3.X.Y is published as the Go module version v0.3XX.Y (3.16.0 -> v0.316.0).
  local major minor patch
  IFS=. read -r major minor patch <<<"$v"
  _qw_prepare_src "$name" "$v" github.com/prometheus/prometheus "v0.$((major * 100 + minor)).$patch"
  ldflags=$(qw_prometheus_ldflags "$v" "v0.$((major * 100 + minor)).$patch")
  qw_step "$name" "$v" "go build ./cmd/prometheus ./cmd/promtool (tags: $QW_PROMETHEUS_TAGS; no UI assets: API only)"
  mkdir -p "$src/.qw-out"
  (
    cd "$src"
    qw_run_logged "$name" "$v" env CGO_ENABLED=0 go build -v -trimpath -tags "$QW_PROMETHEUS_TAGS" -ldflags "$ldflags" \
      -o .qw-out/ ./cmd/prometheus ./cmd/promtool
  )
  qw_install "$name" "$v" "$src/.qw-out/prometheus" "$src/.qw-out/promtool"
  rm -rf "$src"
  qw_done "$name" "$v"
}

build_alertmanager() {
  local v=$ALERTMANAGER_VERSION name=alertmanager src ldflags
  if ! command -v go >/dev/null; then
    qw_debian_link alertmanager prometheus-alertmanager "$v" alertmanager amtool
    return
  fi
  qw_cached "$name" "$v" alertmanager amtool && return 0
  qw_begin "$name" "$v"
  src=$(qw_src_dir "$name" "$v")
  _qw_prepare_src "$name" "$v" github.com/prometheus/alertmanager "v$v"
  # ui/web.go embeds ui/app/dist, which is built by npm for releases and is not in the module. It
  # serves HTML only as index.html.gz (or .br), so the stub is gzipped too.
  if grep -q '^//go:embed app/dist' "$src/ui/web.go" 2>/dev/null && [[ ! -e $src/ui/app/dist/index.html ]]; then
    mkdir -p "$src/ui/app/dist"
    printf '<!doctype html><title>Alertmanager</title><p>UI not built (quantwatch test bed): use the API.\n' \
      >"$src/ui/app/dist/index.html"
    gzip -kn9 "$src/ui/app/dist/index.html"
  fi
  ldflags=$(qw_prometheus_ldflags "$v" "v$v")
  qw_step "$name" "$v" "go build ./cmd/alertmanager ./cmd/amtool (UI stubbed)"
  mkdir -p "$src/.qw-out"
  (
    cd "$src"
    qw_run_logged "$name" "$v" env CGO_ENABLED=0 go build -v -trimpath -tags netgo -ldflags "$ldflags" \
      -o .qw-out/ ./cmd/alertmanager ./cmd/amtool
  )
  qw_install "$name" "$v" "$src/.qw-out/alertmanager" "$src/.qw-out/amtool"
  rm -rf "$src"
  qw_done "$name" "$v"
}

# VictoriaLogs stands in for Loki in the bed: it takes Loki's push protocol (Loki itself is AGPL
# and never built here). No replace lines, so `go install` builds it as published; the version is
# stamped where its /metrics reports it (vm_app_version).
build_victorialogs() {
  local v=$VICTORIALOGS_VERSION name=victorialogs out
  if ! command -v go >/dev/null; then
    printf 'victorialogs %s: UNAVAILABLE: no Go toolchain, and Debian has no VictoriaLogs package\n' "$v" >&2
    return "$QW_UNAVAILABLE"
  fi
  qw_cached "$name" "$v" victoria-logs && return 0
  qw_begin "$name" "$v"
  out=$(qw_src_dir "$name" "$v")
  rm -rf "$out"
  mkdir -p "$out"
  qw_step "$name" "$v" "go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v$v"
  qw_run_logged "$name" "$v" env CGO_ENABLED=0 GOBIN="$out" GOFLAGS=-buildvcs=false go install -v -trimpath \
    -ldflags "-s -w -X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-v$v" \
    "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v$v"
  qw_install "$name" "$v" "$out/victoria-logs"
  rm -rf "$out"
  qw_done "$name" "$v"
}

# Thanos, the scale-out profile's global view and long-term store (Receive, Query). Its go.mod has
# replace lines (all to served modules), so `go install` refuses: build from a copy. The
# `slicelabels` tag is required: without it a receiver panics (makeslice) as soon as Query connects.
build_thanos() {
  local v=$THANOS_VERSION name=thanos src ldflags
  if ! command -v go >/dev/null; then
    printf 'thanos %s: UNAVAILABLE: no Go toolchain, and Debian has no Thanos package\n' "$v" >&2
    return "$QW_UNAVAILABLE"
  fi
  qw_cached "$name" "$v" thanos && return 0
  qw_begin "$name" "$v"
  src=$(qw_src_dir "$name" "$v")
  _qw_prepare_src "$name" "$v" github.com/thanos-io/thanos "v$v"
  ldflags=$(qw_prometheus_ldflags "$v" "v$v")
  qw_step "$name" "$v" "go build ./cmd/thanos (tags: netgo,slicelabels)"
  mkdir -p "$src/.qw-out"
  (
    cd "$src"
    qw_run_logged "$name" "$v" env CGO_ENABLED=0 go build -v -trimpath -tags netgo,slicelabels -ldflags "$ldflags" \
      -o .qw-out/ ./cmd/thanos
  )
  qw_install "$name" "$v" "$src/.qw-out/thanos"
  rm -rf "$src"
  qw_done "$name" "$v"
}

# Fallback without Go: Debian's package, unpacked (not installed: installing would start its service
# on all interfaces) into $QW_CACHE/debian/PKG_VERSION/, its binaries linked into
# bin/NAME-DEBVERSION/. Debian's versions are older than the pins (bookworm: Prometheus 2.42,
# Alertmanager 0.25). Usage: qw_debian_link NAME DEB_PACKAGE BIN...; each BIN is taken from the
# package's usr/bin/BIN, or usr/bin/DEB_PACKAGE (how Debian names the alertmanager binary).
qw_debian_link() {
  local name=$1 pkg=$2 pinned=$3 deb debv dir dl root bin sudo=
  shift 3
  printf 'WARNING: %s: no Go toolchain: using Debian package %s instead of %s %s\n' \
    "$name" "$pkg" "$name" "$pinned" >&2
  ((EUID == 0)) || sudo=sudo
  mkdir -p "$QW_CACHE/debian"
  if ! apt-cache show "$pkg" >/dev/null 2>&1; then
    $sudo apt-get update -qq >&2
  fi
  debv=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
  qw_cached "$name" "$debv" "$@" && return 0
  root=$QW_CACHE/debian/${pkg}_$debv
  if [[ ! -d $root ]]; then
    # apt's sandbox user must be able to write where it downloads.
    dl=$(mktemp -d)
    chmod 0777 "$dl"
    (cd "$dl" && apt-get download -qq "$pkg") >&2
    deb=$(find "$dl" -name '*.deb' | head -n 1)
    rm -rf "$root.tmp"
    dpkg-deb -x "$deb" "$root.tmp"
    mv "$root.tmp" "$root"
    rm -rf "$dl"
  fi
  dir=$(qw_bin_dir "$name" "$debv")
  mkdir -p "$dir"
  for bin in "$@"; do
    if [[ -x $root/usr/bin/$bin ]]; then
      ln -sfn "$root/usr/bin/$bin" "$dir/$bin"
    else
      ln -sfn "$root/usr/bin/$pkg" "$dir/$bin"
    fi
    "$dir/$bin" --version >/dev/null 2>&1 || { echo "$dir/$bin does not run" >&2; return 1; }
  done
  printf 'WARNING: %s is Debian %s, not the pinned %s: results may differ\n' "$name" "$debv" "$pinned" >&2
  qw_report "$name" "$dir"
}

# The exit status of server $1's build, into rcs[$1] (qw_main's locals).
_qw_wait() {
  rcs[$1]=0
  wait "${pids[$1]}" || rcs[$1]=$?
}

qw_main() {
  local target=${1:-all} servers=() s dir rc failed=() unavailable=()
  case $target in
    all) servers=(prometheus alertmanager victorialogs thanos) ;;
    prometheus | alertmanager | victorialogs | thanos)
      servers=("$target")
      ;;
    -h | --help | help)
      sed -n '2,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      return 0
      ;;
    *)
      echo "usage: $0 [prometheus|alertmanager|victorialogs|thanos|all]" >&2
      exit 2
      ;;
  esac
  QW_REPORT=$(mktemp "${TMPDIR:-/tmp}/qw-build-report.XXXXXX")
  if command -v go >/dev/null; then
    qw_check_go_min || exit 1
  else
    echo "WARNING: no 'go' on PATH: falling back to Debian packages" >&2
  fi
  local -A pids=() rcs=() dirs=()
  local t0=$SECONDS
  for s in "${servers[@]}"; do
    # Each server in its own subshell, so one failure still lets the others build; errexit is
    # re-enabled inside because a subshell in `||` or `if` context would ignore it. With Go the
    # builds run side by side (downloads overlap compiles); apt's fallback takes one at a time.
    (
      set -e
      "build_$s"
    ) &
    pids[$s]=$!
    command -v go >/dev/null || _qw_wait "$s"
  done
  for s in "${servers[@]}"; do
    [[ -n ${rcs[$s]:-} ]] || _qw_wait "$s"
    rc=${rcs[$s]}
    if ((rc == QW_UNAVAILABLE)); then
      unavailable+=("$s")
    elif ((rc != 0)); then
      failed+=("$s")
    fi
  done
  printf 'test bed: %s ready or reported in %ss\n' "${servers[*]}" "$((SECONDS - t0))" >&2
  while read -r s dir; do
    dirs[$s]=$dir
  done <"$QW_REPORT"
  rm -f "$QW_REPORT"
  for s in "${servers[@]}"; do
    [[ -z ${dirs[$s]:-} ]] || _qw_export "$s" "${dirs[$s]}"
  done
  if ((${#failed[@]} > 0)); then
    printf 'FAILED: %s (logs in %s/logs)\n' "${failed[*]}" "$QW_CACHE" >&2
    exit 1
  fi
  if ((${#unavailable[@]} > 0)); then
    printf 'UNAVAILABLE on this machine: %s: the tests that need it would fail (see tests/testbed/README.md)\n' \
      "${unavailable[*]}" >&2
    exit "$QW_UNAVAILABLE"
  fi
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  qw_main "$@"
fi
