#!/usr/bin/env bash
# Reads what `dotnet test --logger "console;verbosity=normal"` printed (FILE) and dotnet's exit status, prints the
# corpus scores the tests reported ("score: …" lines) and then one line, summed over the assemblies:
# "N passed, N failed, N skipped". Just above that line it repeats each failed test with its error message and first
# stack frame, so the end of a long log (all a CI page may keep) still names what failed.
# Exits 1 when dotnet failed, a test failed or no test ran.
# usage: bash tests/summarize.sh FILE STATUS
set -uo pipefail
out=$1
status=${2:-0}

if grep -q '^score: ' "$out"; then
  echo "corpus scores:"
  grep '^score: ' "$out" | sed 's/^score: /  /'
fi

# dotnet prints a failure as "  Failed NAME [time]", "  Error Message:", the message, "  Stack Trace:", the frames.
awk '
  /^  Failed .* \[[^]]*\]$/ { if (!shown++) print "failed tests:"; print "  " substr($0, 10); mode = "name"; next }
  mode == "name" && /^  Error Message:$/ { mode = "message"; lines = 0; next }
  mode == "message" && /^  Stack Trace:$/ { mode = "stack"; next }
  mode == "message" && NF > 0 && lines++ < 12 { sub(/^ +/, ""); print "      " $0; next }
  mode == "stack" && /^ +at / { sub(/^ +/, ""); print "      " $0; mode = ""; next }
  /^  (Passed|Skipped|Failed) / { mode = "" }' "$out"

# Each assembly ends with "Total tests: N" and, under it, "     Passed: N", "     Failed: N", "    Skipped: N" (a zero is left out).
read -r passed failed skipped < <(awk '
  /^ +Passed: [0-9]+$/  { p += $2 }
  /^ +Failed: [0-9]+$/  { f += $2 }
  /^ +Skipped: [0-9]+$/ { s += $2 }
  END { print p + 0, f + 0, s + 0 }' "$out")

echo "${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then echo "error: no test ran" >&2; exit 1; fi
exit 0
