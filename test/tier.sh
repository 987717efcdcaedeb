#!/bin/sh
# The test files of a tier, built: `unit` needs neither root nor the lab (fast, run it while you
# work); `rest` is everything else (real sshd, the lab, tmux). Used by npm test and npm run test:unit.
cd "$(dirname "$0")/.." || exit 1
unit() {
  find dist/test/unit dist/test/ui dist/test/engine -name '*.test.js'
  echo dist/test/transport/cached-reads.test.js
  echo dist/test/transport/local-host.test.js
}
case "$1" in
  unit) unit | sort ;;
  rest) find dist/test -name '*.test.js' | sort | grep -vxF "$(unit)" ;;
  *) echo "usage: test/tier.sh unit|rest" >&2; exit 1 ;;
esac
