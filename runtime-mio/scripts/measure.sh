#!/usr/bin/env bash
# The node's figures for the closing note, in release mode (each is an ignored test that
# prints its figures): datagrams forwarded per second against a raw UDP echo loop, a post's
# latency across five processes, resident memory of idle members of a 50-member cluster.
# Usage: runtime-mio/scripts/measure.sh [forward_rate|post_latency|idle_memory]...
# (all three without arguments; about 20 s, 10 s and 2.5 min of running after the build).
set -euo pipefail
cd "$(dirname "$0")/../.."
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
    tests=(forward_rate post_latency idle_memory)
fi
for test in "${tests[@]}"; do
    echo "== $test (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
    cargo test --release -p peerster-mio --test "$test" -- --ignored --nocapture --skip raw_echo_process 2>&1 |
        grep -vE '^(running|test |$)|Finished|Running|Compiling'
done
