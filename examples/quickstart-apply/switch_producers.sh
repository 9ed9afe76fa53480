#!/bin/sh
# ferry hook "switch_producers": repoints the quickstart producer to the target cluster by
# restarting it there (it continues its numbering where it stopped).
set -eu
: "${FERRY_TARGET_BOOTSTRAP:?ferry sets it for hooks}"
exec "$(dirname "$0")/app.sh" repoint producer "$FERRY_TARGET_BOOTSTRAP"
