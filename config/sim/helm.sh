#!/bin/sh
# The embedded world's stand-in for `helm upgrade --install ...`: prints what helm prints, with the
# values canary passes (${WEIGHT}, ${RC_VERSION}, ${NAMESPACE}, ${RELEASE}). It deploys nothing:
# on the simulated world the traffic weight is the world's. CANARY_SIM_HELM_FAIL=1 makes it fail
# the way a helm upgrade does when a hook times out.
echo "Release \"${RELEASE}\" has been upgraded. Happy Helming!"
sleep 0.3
echo "NAME: ${RELEASE}"
echo "LAST DEPLOYED: $(date -u '+%a %b %e %H:%M:%S %Y')"
echo "NAMESPACE: ${NAMESPACE}"
sleep 0.3
if [ -n "$CANARY_SIM_HELM_FAIL" ]; then
  echo "Error: UPGRADE FAILED: pre-upgrade hooks failed: 1 error occurred:" >&2
  echo "	* timed out waiting for the condition" >&2
  exit 1
fi
echo "STATUS: deployed"
echo "REVISION: $(( $(date +%s) % 97 + 2 ))"
echo "TEST SUITE: None"
echo "canary.enabled=true canary.weight=${WEIGHT} image.tag=${RC_VERSION} monitoring.enhanced=true"
