#!/usr/bin/env bash
# Builds the fuzz targets with clang, ASan and UBSan in their own build folder, and
# runs each for SECONDS (default 15), seeded by its corpus in tests/fuzz/corpus/TARGET
# (what it finds goes to BUILD_DIR/corpus-TARGET). A crash fails the run and leaves its input in
# BUILD_DIR/crash-*; add such an input to the corpus once it is fixed.
#   run.sh BUILD_DIR [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [SECONDS]}
seconds=${2:-15}
if ! command -v clang++ >/dev/null || ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  echo "fuzz: clang is missing (./run test installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DANXIN_CONSOLE=OFF -DBUILD_TESTING=OFF -DANXIN_FUZZ=ON >/dev/null
targets=(client_frame server_frame seat_event roster visits_command intake_signature dc09)
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
cd "$build"
for t in "${targets[@]}"; do
  # New inputs go to the build folder; the repository's corpus only seeds the run.
  mkdir -p "corpus-$t"
  echo "fuzz: $t for ${seconds}s"
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "./tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1 \
    "corpus-$t" "$here/corpus/$t" >"fuzz-$t.log" 2>&1 || rc=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" "fuzz-$t.log" || true
  if [ "$rc" -ne 0 ]; then
    tail -40 "fuzz-$t.log" >&2
    echo "fuzz: $t failed (exit $rc); its input is in $build/crash-* or $build/timeout-*" >&2
    exit 1
  fi
done
echo "fuzz: every target ran ${seconds}s without a crash"
