#!/bin/sh
# The embedded world's stand-in for the query check "Prometheus targets configured": the simulated
# service answers /healthz on $CANARY_SIM_URL, which is what the exporter's scrape target serves.
node -e 'fetch(process.env.CANARY_SIM_URL + "/healthz", { signal: AbortSignal.timeout(3000) }).then((r) => { console.log(`target ${process.env.CANARY_SIM_URL} up (HTTP ${r.status})`); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(`target down: ${e.cause?.code ?? e.message}`); process.exit(1); })'
