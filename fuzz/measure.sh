#!/usr/bin/env bash
# Measures time and peak memory of the release binary on the hostile inputs
# of issue 7 (the billion-laughs file, 100,000-deep nesting in block and flow
# style, 10,001 documents, a 100,000-key mapping, a 1 MiB line, a file over
# the size limit, 500,001 nodes), of issue 22 (a policy doubling a string 40
# times, 1,999 findings on one 96 KB line in the human output,
# 9,000 findings into a step summary) and on every committed case of
# fixtures/bad. Targets: each under 1 s and 100 MB.
#
#   fuzz/measure.sh            # builds the release binary first
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="$PWD/target/release/planelint"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{laughs,deep-block,deep-flow,deep-map,documents,wide,long-line,nodes,huge,long-line-findings,summary}
mkdir -p "$work"/doubling/{repo,policies}
cp fixtures/bad/billion-laughs/lol.yaml "$work/laughs/"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
open(f"{w}/deep-block/deep.yaml", "w").write("- " * 100_000 + "x\n")
open(f"{w}/deep-flow/deep.yaml", "w").write("[" * 100_000 + "]" * 100_000 + "\n")
open(f"{w}/deep-map/deep.yaml", "w").write("{a: " * 100_000 + "1" + "}" * 100_000 + "\n")
open(f"{w}/documents/docs.yaml", "w").write("a: 1\n---\n" * 10_001)
open(f"{w}/wide/wide.yaml", "w").write("".join(f"k{i}: v\n" for i in range(100_000)))
open(f"{w}/long-line/long.yaml", "w").write("a: " + "x" * (1 << 20) + "\n")
open(f"{w}/nodes/nodes.yaml", "w").write("- a\n" * 500_001)
with open(f"{w}/huge/huge.yaml", "w") as f:
    f.truncate(65 << 20)  # sparse: over the 64 MiB limit, never read
cluster = "apiVersion: planelint/v1\nkind: Cluster\n"
open(f"{w}/doubling/repo/c.yaml", "w").write("".join(f"{cluster}metadata: {{name: c{i}}}\n---\n" for i in range(5)))
variables = "".join(f"    - name: v{i}\n      expression: variables.v{i-1} + variables.v{i-1}\n" for i in range(1, 41))
open(f"{w}/doubling/policies/p.yaml", "w").write(
    "apiVersion: planelint/v1\nkind: Policy\nmetadata:\n  name: doubling\nspec:\n  summary: Hostile.\n"
    "  forEach: clusters\n  variables:\n    - name: v0\n      expression: object.name\n"
    f"{variables}  validations:\n    - expression: size(variables.v40) > 0\n")
# 2,000 placements on one flow line of 96 KB, all on one account: 1,999
# findings on that line.
domains = ", ".join(f"{{name: d{i}}}" for i in range(2_000))
placements = ", ".join(f"{{domain: d{i}, provider: gcp, account: shared}}" for i in range(2_000))
open(f"{w}/long-line-findings/plane.yaml", "w").write(
    "apiVersion: planelint/v1\nkind: DataPlane\nmetadata: {name: org}\nspec:\n  isolation: domain\n"
    f"  providers: single\n  domains: [{domains}]\n  placements: [{placements}]\n")
open(f"{w}/summary/c.yaml", "w").write("".join(
    f"---\n{cluster}metadata: {{name: c{i}}}\nspec: {{pool: missing-{i}, metadataBucket: gs://b}}\n" for i in range(9_000)))
PY

measure() {
    local name=$1
    shift
    # Exit codes are the corpus test's business; here only time and memory.
    /usr/bin/time -o "$work/time" -f '%e %M' "$@" >/dev/null 2>&1 || true
    local seconds kib verdict=ok
    # With a non-zero exit, time writes a line before its numbers.
    read -r seconds kib < <(tail -n 1 "$work/time")
    if awk -v s="$seconds" -v k="$kib" 'BEGIN { exit !(s >= 1.0 || k >= 100 * 1024) }'; then
        verdict=OVER
    fi
    printf '%-45s %6ss %7.1f MB  %s\n' "$name" "$seconds" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$verdict"
}

for dir in laughs deep-block deep-flow deep-map documents wide long-line nodes huge; do
    measure "$dir" "$bin" check "$work/$dir"
done
measure doubling-policy "$bin" check "$work/doubling/repo" --policy "$work/doubling/policies" --no-builtin
measure long-line-findings "$bin" check "$work/long-line-findings"
GITHUB_STEP_SUMMARY="$work/summary.md" measure step-summary "$bin" check --format github "$work/summary"
for dir in fixtures/bad/*/; do
    if [ -d "$dir/repo" ]; then
        measure "$dir" "$bin" check "$dir/repo" --policy "$dir/policies"
    else
        measure "$dir" "$bin" check "$dir"
    fi
done
