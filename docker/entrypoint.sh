#!/bin/bash
# The image's ENTRYPOINT. `serve` and `respond` get the container's defaults
# in front of the arguments given; every other command (ctl, validate, codes)
# runs as it is.
#   --force-rport   unless SIPMOCK_FORCE_RPORT=0: behind Docker's UDP port
#                   mapping a request's source port is not the one in its Via,
#                   so answers go back to where the request came from
#   --listen ...    unless a --listen is given: SIPMOCK_LISTEN (space-separated)
#   --admin ...     unless an --admin is given: SIPMOCK_ADMIN ("" for none),
#                   with --admin-insecure when SIPMOCK_ADMIN_TOKEN is not set
#                   (inside a container the API must bind 0.0.0.0 to be mapped;
#                   publish it on the host's loopback: -p 127.0.0.1:8080:8080)
set -euo pipefail
set -f # SIPMOCK_LISTEN is split on spaces, never globbed

main=/app/dist/cli/main.js
# The server's node flags, as the sipmock executable gives its child
# (src/cli/launcher.ts): SIPMOCK_NODE_FLAGS, "" for none.
read -r -a node_flags <<<"${SIPMOCK_NODE_FLAGS---single-threaded-gc}"
[ $# -gt 0 ] || set -- serve
case "$1" in
  serve | respond) ;;
  *) exec node "$main" "$@" ;;
esac

command=$1
shift
has_listen=0
has_admin=0
for arg in "$@"; do
  case "$arg" in
    --listen | --listen=*) has_listen=1 ;;
    --admin | --admin=*) has_admin=1 ;;
  esac
done

defaults=()
[ "${SIPMOCK_FORCE_RPORT:-1}" = 0 ] || defaults+=(--force-rport)
if [ "$has_listen" = 0 ]; then
  for listen in ${SIPMOCK_LISTEN:-udp:0.0.0.0:5060 tcp:0.0.0.0:5060 tls:0.0.0.0:5061 ws:0.0.0.0:8088 wss:0.0.0.0:8089}; do
    defaults+=(--listen "$listen")
  done
fi
admin=${SIPMOCK_ADMIN-0.0.0.0:8080}
if [ "$has_admin" = 0 ] && [ -n "$admin" ]; then
  defaults+=(--admin "$admin")
  [ -n "${SIPMOCK_ADMIN_TOKEN:-}" ] || defaults+=(--admin-insecure)
fi

exec node "${node_flags[@]}" "$main" "$command" "${defaults[@]}" "$@"
