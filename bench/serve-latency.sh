#!/usr/bin/env bash
# Measures `herald serve`: time from saving a one-line edit to the reloaded
# page, in headless Chromium (bench/serve-latency.mjs), median of several
# edits. Not part of `cargo test`.
#
# usage: bench/serve-latency.sh SITE_DIR ENTRY_MD PAGE_PATH [EDITS] [body|title] [PAUSE_MS]
#   bench/serve-latency.sh . content/about.md /about/ 9
#   bench/serve-latency.sh /tmp/site10k content/posts/post-05000.md /posts/post-05000/ 9
#
# Uses target/release/herald (run `cargo build --release` first) and
# playwright-core from $SITE_CHECK_HOME (installed by .ci/run).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
site="$(cd "$1" && pwd)"; entry="$2"; page="$3"; edits="${4:-9}"; edit="${5:-body}"; pause="${6:-400}"
bin="${HERALD_BIN:-$here/target/release/herald}"
log="$(mktemp)"
"$bin" serve --root "$site" --port 0 >"$log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  grep -q 'Serving at' "$log" && break
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)"
grep -m1 'Built in' "$log"
node "$here/bench/serve-latency.mjs" --url "$url$page" --file "$site/$entry" --edits "$edits" --edit "$edit" --pause "$pause"
# The server's own share, from its terminal: the edited page rendered ahead
# ("shown in"), and the full rebuild that follows ("rebuilt in"; on a large
# site several saves merge into one). Wait for the last full rebuild.
for _ in $(seq 1 600); do
  grep -q 'rebuilt in' "$log" && [ "$(tail -1 "$log" | grep -c 'rebuilt in')" = 1 ] && break
  sleep 0.1
done
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)] " ms (" NR " runs)"; else print "none"}'; }
echo "server, page rendered ahead, median: $(grep -o 'shown in [0-9]* ms' "$log" | awk '{print $3}' | median)"
echo "server, full rebuild, median: $(grep -o 'rebuilt in [0-9]* ms' "$log" | awk '{print $3}' | median)"
