#!/usr/bin/env bash
# Docker Compose (COMPOSE_VERSION in versions.env) for validating compose.yaml where there is no
# Docker engine and no compose plugin, e.g. in CI: `compose config` needs neither.
#
# Usage: compose/install-compose.sh   prints the path of a working docker-compose binary on stdout
#
# Uses a docker-compose on PATH when it is the pinned version; otherwise builds github.com/docker/compose/v5 from the Go module proxy into the test bed's cache
# (bin/docker-compose-VERSION/, about 4 minutes and 0.6 GB of modules cold, then reused), with the
# build helpers of testbed/build.sh. Debian's docker-compose package is 1.29 (bookworm), a
# Python rewrite that predates the compose spec parts this file uses (start_interval, deploy limits).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../testbed/build.sh
source "$(dirname "${BASH_SOURCE[0]}")/../testbed/build.sh"

build_compose() {
  local v=$COMPOSE_VERSION name=docker-compose src major
  qw_cached "$name" "$v" docker-compose && return 0
  command -v go >/dev/null || {
    printf '%s %s: no Go toolchain to build it with, and no compose %s on PATH\n' "$name" "$v" "$v" >&2
    return 1
  }
  qw_begin "$name" "$v"
  src=$(qw_src_dir "$name" "$v")
  major=${v%%.*}
  _qw_prepare_src "$name" "$v" "github.com/docker/compose/v$major" "v$v"
  qw_step "$name" "$v" "go build ./cmd (the docker-compose binary)"
  mkdir -p "$src/.qw-out"
  (
    cd "$src"
    qw_run_logged "$name" "$v" env CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v$major/internal.Version=v$v" -o .qw-out/docker-compose ./cmd
  )
  qw_install "$name" "$v" "$src/.qw-out/docker-compose"
  rm -rf "$src"
  qw_done "$name" "$v"
}

main() {
  local found
  found=$(command -v docker-compose || true)
  if [[ -n $found && $("$found" version --short 2>/dev/null | sed 's/^v//') == "$COMPOSE_VERSION" ]]; then
    printf '%s\n' "$found"
    return
  fi
  QW_REPORT=/dev/null build_compose >&2
  printf '%s\n' "$(qw_bin_dir docker-compose "$COMPOSE_VERSION")/docker-compose"
}

main "$@"
