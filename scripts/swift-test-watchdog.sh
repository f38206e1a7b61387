#!/usr/bin/env bash
# Runs `swift test ARGS...` with a time limit (CARTRIDGE_TEST_TIME_LIMIT seconds, default 2700).
# A test that hangs then fails the run within the limit instead of stalling CI: before the test
# process is killed, every thread's backtrace is printed (gdb; the toolchain's lldb needs a Python Debian 12 lacks),
# so the log names the test and the wait it hung in. Output is line-buffered so the last
# "started" line printed is the one that hung.
set -uo pipefail
limit=${CARTRIDGE_TEST_TIME_LIMIT:-2700}
SWIFT=${SWIFT:-swift}

stdbuf -oL -eL "$SWIFT" test "$@" &
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
        echo "swift-test-watchdog: FAILED: time limit of ${limit} s exceeded" >&2
        exit 124
    fi
    sleep 5
done
wait "$runner"
