#!/usr/bin/env bash
# Stoplight Prism 5.14.2 (npm, runs on Node 20), for the contract test in tests/syndicate_contract.rs.
#   tests/support/prism.sh install   # cached under $DEV_SERVERS_HOME/contract (default ~/.cache/dev-servers)
#   tests/support/prism.sh path      # prints the prism entry point the tests run with node
# The test starts `prism proxy --errors SPEC http://127.0.0.1:FAKE` itself on free ports.
# Recipe: ../shared/dev-servers/contract/prism-contract.sh.
set -euo pipefail
DIR=${DEV_SERVERS_HOME:-$HOME/.cache/dev-servers}/contract
export SCARF_ANALYTICS=false
case "${1:-install}" in
  install)
    mkdir -p "$DIR" && cd "$DIR"
    if [ ! -x node_modules/.bin/prism ]; then
      [ -f package.json ] || echo '{"name":"rs-prism","private":true}' > package.json
      npm install --no-audit --no-fund --ignore-scripts --silent @stoplight/prism-cli@5.14.2
    fi
    echo "prism $(node node_modules/.bin/prism --version) in $DIR" ;;
  path) echo "$DIR/node_modules/.bin/prism" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
