#!/bin/sh
# The embedded world's stand-in for the query check "Prometheus targets configured": the simulated
# service answers /healthz on $CANARY_SIM_URL, which is what the exporter's scrape target serves.
# curl when there is one (a few ms of CPU: at --speed 36000 a heavier process is hours of simulated
# time), else node's fetch.
url="${CANARY_SIM_URL:?the simulated service is off (canary start --sim-http off?)}/healthz"
if command -v curl >/dev/null 2>&1; then
  code=$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' "$url")
  rc=$?
  [ "$rc" -ne 0 ] && { echo "target down: no answer from ${url} (curl exit ${rc})" >&2; exit 1; }
  case "$code" in
    2??) echo "target ${CANARY_SIM_URL} up (HTTP ${code})"; exit 0 ;;
    *) echo "target down: HTTP ${code} from ${url}" >&2; exit 1 ;;
  esac
fi
exec node -e 'fetch(process.env.CANARY_SIM_URL + "/healthz", { signal: AbortSignal.timeout(3000) }).then((r) => { console.log(`target ${process.env.CANARY_SIM_URL} up (HTTP ${r.status})`); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(`target down: ${e.cause?.code ?? e.message}`); process.exit(1); })'
