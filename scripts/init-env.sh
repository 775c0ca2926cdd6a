#!/usr/bin/env bash
# Creates .env for docker-compose.yml from .env.example, with freshly generated secrets.
#
#   scripts/init-env.sh video.example.org [PUBLIC_IP]
#       a public name: Caddy gets its certificate automatically (ports 80/443 must reach
#       this host); PUBLIC_IP when the host sits behind 1:1 NAT (most cloud VMs).
#   scripts/init-env.sh --lan 192.168.1.20
#       a LAN or test box: Caddy's internal CA (browsers warn until its root is trusted).
#
# Options: --force overwrites an existing file; --output FILE writes elsewhere than .env.
# Run once. Rerunning with --force makes new secrets, which the existing PostgreSQL volume
# does not know (its password is set when the volume is first created).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

output="$ROOT/.env" force=false tls=acme args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=true ;;
    --lan) tls=internal ;;
    --output) shift; output=${1:?--output needs a file} ;;
    -h|--help) usage ;;
    -*) echo "unknown option: $1" >&2; usage ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || usage
domain=${args[0]} public_ip=${args[1]:-}
if ! [[ $domain =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]; then
  echo "not a host name or IPv4 address: $domain" >&2; exit 2
fi
if [ -e "$output" ] && ! $force; then
  echo "$output exists; use --force to replace it (and its secrets)" >&2; exit 1
fi

# Hex only: every secret is safe inside URLs, shell and YAML without quoting.
secret() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

tmp=$(mktemp "$(dirname "$output")/.env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
cp "$ROOT/.env.example" "$tmp"

set_var() {  # set_var KEY VALUE: replace the KEY= line (commented or not), or append it
  local key=$1 value=$2
  if grep -qE "^#? ?$key=" "$tmp"; then
    sed -i -E "s|^#? ?$key=.*|$key=$value|" "$tmp"
  else
    printf '%s=%s\n' "$key" "$value" >> "$tmp"
  fi
}

set_var DJANGO_SECRET_KEY "$(secret 32)"
set_var DJANGO_DEBUG false
# localhost: the HEALTHCHECKs probe each container with Host: localhost.
set_var DJANGO_ALLOWED_HOSTS "$domain,localhost"
set_var DJANGO_CSRF_TRUSTED_ORIGINS "https://$domain"
set_var LOG_FORMAT json
set_var VIDEOROOM_DOMAIN "$domain"
set_var VIDEOROOM_TLS "$tls"
set_var POSTGRES_PASSWORD "$(secret 24)"
set_var REDIS_PASSWORD "$(secret 24)"
set_var GRAFANA_ADMIN_PASSWORD "$(secret 12)"
set_var TURN_SECRET "$(secret 32)"
set_var TURN_URLS "turn:$domain:3478?transport=udp,turn:$domain:3478?transport=tcp"
set_var EXTERNAL_IP "$public_ip"
set_var TURN_EXTERNAL_IP "$public_ip"
if [ "$tls" = internal ]; then
  # On a LAN the workers' addresses are private, which TURN refuses to relay to otherwise.
  set_var TURN_ALLOWED_PEER_IP "$domain"
fi
set_var ICE_PORT_RANGE 40000-40999
chmod 600 "$tmp"
mv "$tmp" "$output"
trap - EXIT
echo "wrote $output for https://$domain (TLS: $tls); next: docker-compose up -d --build" >&2
