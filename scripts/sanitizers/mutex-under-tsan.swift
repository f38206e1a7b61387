// ThreadSanitizer does not model Synchronization.Mutex on Linux (a priority-inheritance futex:
// a contended lock is taken inside the kernel, with no user-space acquire TSan could see), so it
// reports "Swift access race" on state every thread only touches under the lock. Reproduction:
//   swiftc -sanitize=thread -O scripts/sanitizers/mutex-under-tsan.swift -o /tmp/mutex-tsan && /tmp/mutex-tsan
// prints a TSan warning and still "value 800000": the counter is exact, the report is false.
// The same program with pthread_mutex_lock/unlock gets no report.
import Synchronization
import Glibc

final class Box: @unchecked Sendable { var value = 0 }
let box = Box()
let lock = Mutex(())
var threads: [pthread_t] = []
for _ in 0..<4 {
    var thread = pthread_t()
    pthread_create(&thread, nil, { _ in
        for _ in 0..<200_000 { lock.withLock { _ in box.value += 1 } }
        return nil
    }, nil)
    threads.append(thread)
}
for thread in threads { pthread_join(thread, nil) }
print("value \(box.value) (expected 800000)")
