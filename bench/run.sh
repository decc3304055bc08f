#!/usr/bin/env bash
# Herald against Hugo 0.168 on the shared workload; see docs/benchmarks.md.
#   bench/run.sh            full run (N = 1,000 / 10,000 / 100,000), writes bench/RESULTS.md
#   bench/run.sh --quick    N = 1,000 and 10,000, fewer rounds, prints only
#   bench/run.sh --help     every option
# Needs: python3 (with venv), cargo, a tmpfs at /dev/shm (or --fs disk).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec python3 "$here/run.py" "$@"
