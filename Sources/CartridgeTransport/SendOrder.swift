import Synchronization

/// The count of sends queued on a transport's sender thread, behind a lock that also orders the
/// direct (non-blocking) writes against them: a reference, so the sender thread's jobs can
/// decrement it.
final class SendOrder: Sendable {
    private let pending = Mutex<Int>(0)

    func withLock<Result>(_ body: (inout Int) -> Result) -> Result {
        pending.withLock { body(&$0) }
    }
}
