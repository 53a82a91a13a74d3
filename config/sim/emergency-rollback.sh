#!/bin/sh
# The embedded world's stand-in for ./scripts/emergency-rollback.sh: canary has already taken the
# traffic off the canary; this prints what the real script would do with the same arguments.
version=""; reason=""; notify=no
while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --reason) reason="$2"; shift 2 ;;
    --notify-stakeholders) notify=yes; shift ;;
    *) echo "emergency-rollback: unknown option $1" >&2; exit 2 ;;
  esac
done
echo "emergency rollback to ${version:-?} (simulated): ${reason:-no reason}"
[ "$notify" = yes ] && echo "stakeholders notified (simulated)"
exit 0
