#!/bin/sh
# ferry hook "switch_consumers": repoints the quickstart consumer to the target cluster by
# restarting it there (it continues from the group's offsets ferry committed on the target).
set -eu
: "${FERRY_TARGET_BOOTSTRAP:?ferry sets it for hooks}"
exec "$(dirname "$0")/app.sh" repoint consumer "$FERRY_TARGET_BOOTSTRAP"
