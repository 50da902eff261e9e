#!/usr/bin/env bash
# The stack's lifecycle behind `make up|down|logs|ps`.
#
# Usage: compose/stack.sh up|down|logs [SERVICE...]|ps|preflight|secrets
#
#   up         pre-flight, start everything, wait until every service is healthy, print the URLs
#   down       stop and remove the containers; the named volumes (all data) are kept
#   logs       follow the logs (of the given services, or all)
#   ps         the services and their health
#   preflight  only the checks: a Docker engine answers, compose v2 is there, secrets exist
#   secrets    only create the missing secret files
#
# Environment: QW_UP_TIMEOUT (seconds to wait for health, default 300), QW_UP_POLL (2), QW_GRAFANA_PORT (3000),
# QW_MAILPIT_PORT (8025), QW_SECRETS_DIR (default: secrets/ at the repository root), QW_PROFILE (empty: the
# single-host stack, compose.yaml; ha: the HA profile, compose.ha.yaml, whose TLS material and passwords
# `python -m scaleout.pki` writes to secrets/ha first: make up PROFILE=ha does).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
SECRETS=${QW_SECRETS_DIR:-$REPO/secrets}
TIMEOUT=${QW_UP_TIMEOUT:-300}
POLL=${QW_UP_POLL:-2}
PROFILE=${QW_PROFILE:-}
COMPOSE_FILE=$HERE/compose${PROFILE:+.$PROFILE}.yaml
#: Secrets Alertmanager reads, with the placeholder a fresh checkout starts with (see docs/stack.md).
PLACEHOLDERS=(
  "slack_webhook_url=http://127.0.0.1:9/slack-webhook-not-configured"
  "smtp_password=mailpit-accepts-any-password"
  "alert_webhook_url=http://127.0.0.1:9/alert-webhook-not-configured"
  "heartbeat_url=http://127.0.0.1:9/heartbeat-not-configured"
)

say() { printf '%s\n' "$*" >&2; }
die() {
  say "make up: $*"
  exit 1
}

COMPOSE=()
find_compose() {
  if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null && docker-compose version 2>/dev/null | grep -Eq 'v?[2-9]\.'; then
    COMPOSE=(docker-compose)
  else
    die "Docker Compose v2 is missing: install the compose plugin ('docker compose version' must work)"
  fi
}

compose() {
  "${COMPOSE[@]}" --project-directory "$HERE" --env-file "$HERE/versions.env" -f "$COMPOSE_FILE" "$@"
}

# Letters and digits only; every command reads its whole input (no SIGPIPE under pipefail).
random_secret() { head -c 96 /dev/urandom | base64 -w0 | tr -d '/+=' | cut -c "1-$1"; }

# Write SECRET only if missing. The folder is private (0700); the files are world-readable (0644)
# because compose bind-mounts them as they are and Grafana, Alertmanager run as unprivileged users.
ensure_secret() {
  local name=$1 value=$2
  [[ -s $SECRETS/$name ]] && return 1
  (umask 022 && printf '%s' "$value" >"$SECRETS/$name")
  return 0
}

make_secrets() {
  mkdir -p "$SECRETS"
  chmod 0700 "$SECRETS"
  if ensure_secret grafana_admin_password "$(random_secret 24)"; then
    say "Generated the Grafana admin password (user admin): $SECRETS/grafana_admin_password"
  fi
  ensure_secret grafana_secret_key "$(random_secret 40)" || true
  local entry
  for entry in "${PLACEHOLDERS[@]}"; do
    if ensure_secret "${entry%%=*}" "${entry#*=}"; then
      say "Wrote a placeholder $SECRETS/${entry%%=*}: see docs/stack.md to point it at a real account"
    fi
  done
}

# The HA profile's own secrets (scaleout/pki.py writes them) and the object-storage keys of its Loki.
ha_secrets() {
  [[ -s $SECRETS/ha/web.yml ]] || die "$SECRETS/ha has no TLS material: run 'make up PROFILE=ha' (it runs python -m scaleout.pki)"
  if ensure_secret ha/loki_s3_credentials $'[default]\naws_access_key_id = not-configured\naws_secret_access_key = not-configured\n'; then
    say "Wrote a placeholder $SECRETS/ha/loki_s3_credentials: Loki's object storage keys (docs/scale-out.md)"
  fi
}

preflight() {
  [[ -f $COMPOSE_FILE ]] || die "no profile '$PROFILE': $COMPOSE_FILE does not exist"
  command -v docker >/dev/null || die "no 'docker' command: install Docker Engine (or Docker Desktop)"
  docker info >/dev/null 2>&1 || die "no Docker engine answers ('docker info' fails): start Docker, or set DOCKER_HOST"
  find_compose
  [[ -n $(find "$REPO/dashboards/json" -name '*.json' -print -quit 2>/dev/null) ]] || die "dashboards/json is empty: run 'make generate'"
  [[ -f $REPO/alertmanager/alertmanager.yml ]] || die "alertmanager/alertmanager.yml is missing: run 'make generate'"
  make_secrets
  [[ $PROFILE != ha ]] || ha_secrets
}

# One line per service that is not healthy yet: "name:state". Empty when all are healthy.
not_healthy() {
  local service id state
  for service in $(compose config --services); do
    id=$(compose ps -q "$service" 2>/dev/null || true)
    if [[ -z $id ]]; then
      echo "$service:missing"
      continue
    fi
    state=$(docker inspect --format '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
    [[ $state == running/healthy ]] || echo "$service:$state"
  done
}

fail_service() {
  local service=$1 state=$2
  say ""
  say "make up: $service is $state. Its last log lines:"
  compose logs --no-color --tail 40 "$service" >&2 || true
  say "make up: the other services keep running; 'make logs' follows them, 'make down' stops them"
  exit 1
}

# Stop at the first service that has failed for good (unhealthy, exited, never created).
fail_on_broken() {
  local entry
  for entry in $1; do
    case ${entry#*:} in
      */unhealthy | exited/* | dead/* | missing) fail_service "${entry%%:*}" "${entry#*:}" ;;
    esac
  done
}

wait_healthy() {
  local start=$SECONDS pending service
  while true; do
    pending=$(not_healthy)
    [[ -z $pending ]] && break
    fail_on_broken "$pending"
    if ((SECONDS - start > TIMEOUT)); then
      service=${pending%%:*}
      fail_service "$service" "not healthy after ${TIMEOUT}s (${pending//$'\n'/, })"
    fi
    printf '\rwaiting %3ss for: %s   ' "$((SECONDS - start))" "$(echo "$pending" | cut -d: -f1 | paste -sd' ')" >&2
    sleep "$POLL"
  done
  printf '\rall services healthy after %ss%*s\n' "$((SECONDS - start))" 40 '' >&2
}

up() {
  preflight
  say "Starting the stack (images are pulled and the bot image built on the first run)..."
  # compose itself waits for the services others depend on to be healthy, showing their state.
  if ! compose up --detach --build --remove-orphans; then
    local pending
    pending=$(not_healthy)
    [[ -n $pending ]] || die "'docker compose up' failed (see its message above)"
    fail_on_broken "$pending"
    fail_service "${pending%%:*}" "$(echo "$pending" | head -n 1 | cut -d: -f2), and 'docker compose up' failed"
  fi
  wait_healthy
  cat <<EOF

  Grafana   http://127.0.0.1:${QW_GRAFANA_PORT:-3000}   user admin, password in $SECRETS/grafana_admin_password
  Mailpit   http://127.0.0.1:${QW_MAILPIT_PORT:-8025}   the alert emails (SMTP catcher)

  Prometheus, Alertmanager and Loki stay inside the compose network: use Grafana (Explore,
  Alerting) or 'docker compose exec'. 'make logs' follows the logs, 'make down' stops the stack.
EOF
}

main() {
  local command=${1:-}
  shift || true
  case $command in
    up) up ;;
    down)
      find_compose
      compose down --remove-orphans
      say "Stopped. Data volumes are kept; 'docker volume ls --filter label=com.docker.compose.project=quantwatch' lists them."
      ;;
    logs)
      find_compose
      compose logs --follow --tail 100 "$@"
      ;;
    ps)
      find_compose
      compose ps --all
      ;;
    preflight) preflight ;;
    secrets) make_secrets ;;
    *)
      sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
}

main "$@"
