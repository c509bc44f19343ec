#!/usr/bin/env bash
# Measures what a Peerster call sounds like: wideband PESQ of speech through a simulated call
# (8 members, 5 ms links with up to 10 ms of jitter) at 0 % and 5 % loss, against the codec
# alone, with the call's mouth-to-ear latency and cost.
#
# Needs espeak-ng and sox (Debian packages), and the PyPI packages pesq, soundfile and numpy.
# Usage: sim/scripts/call_quality.sh [SEEDS...]   (default seeds: 1 2 3)
# CALL_ARGS adds options to every call run, e.g. CALL_ARGS="--repeats 0 --p-stem 0.75".
# Prints one line per run: loss, seed, PESQ, latency p50/p90/p99 ms, frames lost, bytes/member.
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds=("${@:-1 2 3}")
# shellcheck disable=SC2206
seeds=(${seeds[*]})
# shellcheck disable=SC2206
extra=(${CALL_ARGS:-})
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p peerster-sim
sim=target/release/peerster-sim

espeak-ng -v en-us -s 150 -w "$work/raw.wav" \
  "The quick brown fox jumps over the lazy dog. A journalist met her source at the old \
station, and they talked about the documents for a long while before parting."
sox "$work/raw.wav" -r 48000 -c 1 -b 16 "$work/speech48.wav"
sox "$work/speech48.wav" -r 16000 "$work/ref16.wav"

pesq_of() { # WAV at 48 kHz -> PESQ against the reference
  sox "$1" -r 16000 "$work/deg16.wav"
  python3 sim/scripts/pesq_wb.py "$work/ref16.wav" "$work/deg16.wav"
}

"$sim" call --codec-only --input "$work/speech48.wav" --output "$work/codec.wav" >/dev/null
echo "codec alone: PESQ $(pesq_of "$work/codec.wav")"

for loss in 0 0.05; do
  for seed in "${seeds[@]}"; do
    "$sim" call --input "$work/speech48.wav" --output "$work/out.wav" --loss "$loss" \
      --members 8 --latency-ms 5 --jitter-ms 10 --seed "$seed" "${extra[@]}" >"$work/report.json"
    python3 - "$work/report.json" "$loss" "$seed" "$(pesq_of "$work/out.wav")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency_ms"]
print(f"loss {float(sys.argv[2])*100:.0f} % seed {sys.argv[3]}: PESQ {sys.argv[4]}, "
      f"latency p50 {l['p50']:.0f} p90 {l['p90']:.0f} p99 {l['p99']:.0f} ms, "
      f"frames lost {r['frames_lost']} of {r['frames_sent']} (FEC {r['frames_recovered_fec']}, "
      f"late {r['frames_late']}), {r['bytes_per_member']/1e6:.2f} MB per member")
PY
  done
done
