#!/bin/sh
# The embedded world's stand-in for the flag service hook: prints what enabling the flag did.
echo "flag ${1:?flag name} enabled for phase ${PHASE:-?} (simulated flag service)"
