#!/usr/bin/env bash
# Runs each fuzz target for a fixed time, one after another (they share the
# machine's cores with everything else).
#
#   fuzz/run.sh SECONDS [TARGET...]     # default: every target
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain,
# RUSTC_BOOTSTRAP=1 lets the stable compiler accept the sanitizer flags.
# Seeds come from fuzz/seeds/<target>/; the working corpus and crashing inputs
# go to fuzz/corpus/ and fuzz/artifacts/ (both ignored by git). Each run's log
# ends with libFuzzer's `Done N runs` line: the executions of that target.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(yaml_load manifest_read policy_compile values_read)
fi
export RUSTC_BOOTSTRAP=1
mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "== $target: ${seconds}s"
    cargo fuzz run "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        2>&1 | tee "logs/$target.log" | grep -E '^(#[0-9]+ +DONE|Done|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY)' || true
done
