#!/bin/sh
# Mosquitto for docker-compose, with its password and ACL files kept current: the brain rewrites them in the
# shared auth volume when credentials change, and this loop has the broker reload them (SIGHUP), which
# disconnects revoked devices and keeps every other client connected.
set -eu
AUTH=/mosquitto/auth
# Every tunable named: how often the files are compared (a revocation takes at most this plus the brain's 3 s).
POLL_S=2
until [ -s "$AUTH/passwd" ] && [ -s "$AUTH/acl" ]; do
  echo "waiting for $AUTH/passwd and $AUTH/acl (written by liftbrain db migrate and the brain)"
  sleep 1
done
chgrp -R mosquitto "$AUTH"
mosquitto -c /mosquitto/config/mosquitto.conf &
pid=$!
trap 'kill -TERM "$pid"; wait "$pid"; exit 0' TERM INT
last="$(cat "$AUTH/passwd" "$AUTH/acl" | md5sum)"
while kill -0 "$pid" 2>/dev/null; do
  sleep "$POLL_S"
  now="$(cat "$AUTH/passwd" "$AUTH/acl" | md5sum)"
  if [ "$now" != "$last" ]; then
    chgrp -R mosquitto "$AUTH"
    kill -HUP "$pid"
    last="$now"
  fi
done
wait "$pid"
