#!/usr/bin/env bash
# A/B in one run: the ingest and Telegram webhook benchmarks for an earlier commit (A) and for this working tree (B),
# alternated A B A B … so that a machine that drifts during the run weighs on both alike, then the median of each figure.
#
#   bash bench/ab.sh REF [--rounds N] [--webhook-mode webhook|whatsapp-twilio|whatsapp-cloud] [--webhook-only]
#
# REF is built in a throwaway worktree (Release) and removed at the end. The ingest benchmark of each side is that side's
# own bench (it runs the pipeline in-process); the webhook benchmark is this tree's client against each side's gateway
# executable (--gateway), so only the gateway differs. Build this tree first: dotnet build -c Release SupportGateway.sln
set -euo pipefail

ref=${1:?usage: bash bench/ab.sh REF [--rounds N] [--webhook-mode MODE]}
shift
rounds=3
mode=webhook
ingest_too=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --webhook-mode) mode=$2; shift 2 ;;
    --webhook-only) ingest_too=0; shift ;;
    *) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
sha=$(git -C "$root" rev-parse --short "$ref^{commit}") || { echo "ab.sh: $ref is not a commit here" >&2; exit 2; }
here=$(git -C "$root" rev-parse --short HEAD)
[[ -z $(git -C "$root" status --porcelain -- src bench) ]] || here="$here+changes"
bench_b=$root/bench/SupportGateway.Bench/bin/Release/net10.0/SupportGateway.Bench.dll
host_b=$root/src/SupportGateway.Host/bin/Release/net10.0/SupportGateway.Host.dll
[[ -f $bench_b && -f $host_b ]] || { echo "ab.sh: build this tree first: dotnet build -c Release SupportGateway.sln" >&2; exit 2; }

tree=$(mktemp -d /tmp/sg-ab-XXXXXX)
out=$tree.log
cleanup() { git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"; }
trap cleanup EXIT
git -C "$root" worktree add --detach "$tree" "$sha" >/dev/null
echo "A = $sha ($(git -C "$root" log -1 --format=%s "$sha" | cut -c1-70)…), B = $here; building A"
dotnet build -c Release -m:1 -v q -nologo "$tree/SupportGateway.sln" >"$tree.build.log" 2>&1 \
  || { tail -20 "$tree.build.log" >&2; echo "ab.sh: A does not build" >&2; exit 1; }
bench_a=$tree/bench/SupportGateway.Bench/bin/Release/net10.0/SupportGateway.Bench.dll
host_a=$tree/src/SupportGateway.Host/bin/Release/net10.0/SupportGateway.Host.dll

# One line per figure: side kind value, kept in $out for the medians.
: >"$out"
record() { echo "$1 $2 $3" >>"$out"; }
ingest() {
  local side=$1 dll=$2 log rate p99 cpu
  # The process's CPU (user + system, warm-up included) per measured message: the rate moves with the machine, this less.
  log=$(cd "$root" && /usr/bin/time -f 'cpu %U %S' dotnet "$dll" 2>&1) || { echo "$log" | tail -5 >&2; exit 1; }
  rate=$(sed -n 's/^throughput: \([0-9]*\) messages\/s.*/\1/p' <<<"$log")
  p99=$(sed -n 's/^latency per message: .*p99 \([0-9.]*\) ms,.*/\1/p' <<<"$log")
  cpu=$(awk '$1 == "cpu" {printf "%.0f", ($2 + $3) * 1e6 / 10000}' <<<"$log")
  [[ -n $rate && -n $p99 ]] || { echo "$log" | tail -5 >&2; echo "ab.sh: the ingest bench of $side gave no figures" >&2; exit 1; }
  echo "  ingest   $side: $rate messages/s, p99 $p99 ms, process CPU $cpu µs per message"
  record "$side" ingest-rate "$rate"; record "$side" ingest-p99 "$p99"; record "$side" ingest-cpu "$cpu"
}
webhook() {
  local side=$1 host=$2 log closed p99 cpu
  # Its exit code says whether the issue's bar was met; here only the figures count.
  log=$(cd "$root" && dotnet "$bench_b" "$mode" --gateway "$host" 2>&1) || true
  closed=$(grep -m1 '^phase 1' <<<"$log" | sed -n 's/.*: \([0-9]*\) req\/s;.*/\1/p')
  p99=$(sed -n 's/^phase 2: .* p99 \([0-9.]*\) ms.*/\1/p' <<<"$log" | tail -1)
  cpu=$(sed -n 's/^gateway CPU: .*, \([0-9]*\) µs per delivery.*/\1/p' <<<"$log" | head -1)
  [[ -n $closed && -n $p99 ]] || { echo "$log" | tail -5 >&2; echo "ab.sh: the $mode bench of $side gave no figures" >&2; exit 1; }
  echo "  $mode $side: closed loop $closed req/s, p99 at the fixed rate $p99 ms, gateway CPU ${cpu:-?} µs per delivery"
  record "$side" webhook-rate "$closed"; record "$side" webhook-p99 "$p99"; [[ -z $cpu ]] || record "$side" webhook-cpu "$cpu"
}

for ((round = 1; round <= rounds; round++)); do
  echo "round $round of $rounds ($(date -u +%H:%M:%S))"
  # Odd rounds run A first, even rounds B first: whatever the order itself costs falls on both sides.
  if ((round % 2)); then first=A; else first=B; fi
  for side in $first $([[ $first == A ]] && echo B || echo A); do
    if ((ingest_too)); then if [[ $side == A ]]; then ingest A "$bench_a"; else ingest B "$bench_b"; fi; fi
  done
  for side in $first $([[ $first == A ]] && echo B || echo A); do
    if [[ $side == A ]]; then webhook A "$host_a"; else webhook B "$host_b"; fi
  done
done

echo
echo "medians of $rounds rounds (A = $sha, B = $here):"
printf '%-14s %12s %12s %8s\n' figure A B B/A
for kind in ingest-rate ingest-p99 ingest-cpu webhook-rate webhook-p99 webhook-cpu; do
  a=$(awk -v k=$kind '$1=="A" && $2==k {print $3}' "$out" | sort -g | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
  b=$(awk -v k=$kind '$1=="B" && $2==k {print $3}' "$out" | sort -g | awk '{v[NR]=$1} END {if (NR) print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')
  [[ -n $a && -n $b ]] || continue
  printf '%-14s %12s %12s %7.0f%%\n' "$kind" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {print (a ? 100*b/a : 0)}')"
done
echo "(rates: higher is better; p99 and CPU: lower is better; ingest CPU is per message of the 10,000 measured, warm-up included)"
rm -f "$out" "$tree.build.log"
