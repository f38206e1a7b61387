#!/usr/bin/env bash
# Runs `swift test ARGS...` with a time limit (CARTRIDGE_TEST_TIME_LIMIT seconds, default 2700).
# A test that hangs then fails the run within the limit instead of stalling CI: before the test
# process is killed, every thread's backtrace is printed (gdb; the toolchain's lldb needs a Python Debian 12 lacks),
# so the log names the test and the wait it hung in. Output is line-buffered so the last
# "started" line printed is the one that hung. When tests fail, the failures are repeated at the
# very end (CI logs are often read from their tail, where the passing suites would bury them).
set -uo pipefail
limit=${CARTRIDGE_TEST_TIME_LIMIT:-2700}
SWIFT=${SWIFT:-swift}

log=$(mktemp /tmp/swift-test-log.XXXXXX)
trap 'rm -f "$log"' EXIT
summarize() {
    grep -q -E 'recorded an issue|✘' "$log" || return 0
    echo "swift-test-watchdog: failures (repeated from above):"
    grep -E -A2 'recorded an issue' "$log" | grep -v -E '^(--|◇|✔)|^✘ .* failed after' | cut -c1-400 | head -40
    grep -E '^✘ (Test|Suite) .*(failed|issue)' "$log" | grep -v 'recorded an issue' | cut -c1-300 | tail -20
}

stdbuf -oL -eL "$SWIFT" test "$@" > >(stdbuf -oL tee "$log") 2>&1 &
runner=$!
deadline=$((SECONDS + limit))
while kill -0 "$runner" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "swift-test-watchdog: the tests ran longer than ${limit} s; backtraces of the test process follow" >&2
        for pid in $(pgrep -f 'PackageTests.xctest|swiftpm-testing-helper' || true); do
            echo "=== process $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-200)" >&2
            if command -v gdb >/dev/null; then
                timeout 120 gdb -batch -p "$pid" -ex "thread apply all bt" 2>&1 | grep -v -E '^(\[New LWP|Reading symbols|Downloading separate)' >&2 || true
            else
                echo "(gdb not installed: no backtraces)" >&2
            fi
        done
        pkill -KILL -f 'PackageTests.xctest|swiftpm-testing-helper' || true
        kill -TERM "$runner" 2>/dev/null || true
        wait "$runner" 2>/dev/null
        summarize >&2
        echo "swift-test-watchdog: FAILED: time limit of ${limit} s exceeded" >&2
        exit 124
    fi
    sleep 5
done
wait "$runner"
status=$?
if [ "$status" -ne 0 ]; then
    sleep 1  # let tee flush the last lines
    summarize
fi
exit "$status"
