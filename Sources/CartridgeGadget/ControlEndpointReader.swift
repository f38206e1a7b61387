import CFunctionFS
import CartridgeSystem
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Reads the FunctionFS ep0 event stream on its own interruptible thread and hands the events
/// to its owner (`FunctionFSListener`). When ep0 can no longer be read, the reader stops and
/// reports why through `failed`, once, so the service can end with that error instead of
/// logging the failure for ever.
///
/// Failures that are part of normal operation are retried at once: EINTR (a signal), EAGAIN, and
/// EIDRM (the kernel cancelled a pending SETUP because a newer event arrived). Any other read
/// failure is retried `maximumConsecutiveReadFailures` times, `retryDelay` apart; a failing
/// `poll` or an end of file (ep0 never ends while the function is mounted) fails at once.
///
/// The endpoint is any descriptor (tests use a pipe or a directory); the reader does not own it.
final class ControlEndpointReader: Sendable {
    /// Consecutive failed reads after which ep0 is given up.
    static let maximumConsecutiveReadFailures = 10

    private let endpoint: Int32
    /// An eventfd that `stop()` writes to wake a blocked `poll`.
    private let wakeup: OwnedDescriptor
    private let thread: DedicatedThread
    private let retryDelay: Duration
    private let logger: Logger

    init(endpoint: Int32, logger: Logger, retryDelay: Duration = .milliseconds(100)) throws(SystemCallError) {
        wakeup = OwnedDescriptor(
            adopting: try SystemCall.retryingInterrupts("eventfd") { CFunctionFS_eventfd(0, CFunctionFS_EFD_CLOEXEC) })
        self.endpoint = endpoint
        self.logger = logger
        self.retryDelay = retryDelay
        thread = DedicatedThread(name: "ffs-ep0", interruptible: true)
    }

    /// Starts reading: `events` gets each batch of events in order; `failed` is called at most
    /// once, on the reader's thread, when ep0 cannot be read any more (not after `stop()`).
    func start(
        events: @escaping @Sendable ([FunctionFSEvent]) -> Void, failed: @escaping @Sendable (GadgetError) -> Void
    ) {
        thread.submit { [self] in
            if let failure = serve(events) { failed(failure) }
        }
    }

    /// Wakes the reader, waits for its thread to end, and releases the wake-up descriptor. Idempotent.
    func stop() {
        var one: UInt64 = 1
        _ = write(wakeup.rawValue, &one, 8)
        thread.shutdown()
        try? wakeup.close()
    }

    /// The read loop; returns nil when stopped, or the failure that ended it.
    private func serve(_ events: @Sendable ([FunctionFSEvent]) -> Void) -> GadgetError? {
        var buffer = [UInt8](repeating: 0, count: FunctionFSEvent.size * 4)
        var consecutiveFailures = 0
        let endpoint = self.endpoint
        let wakeup = self.wakeup.rawValue
        let isCancelled = { [thread] in thread.isCancelled }
        while !thread.isCancelled {
            var descriptors = [
                pollfd(fd: endpoint, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0),
            ]
            do throws(SystemCallError) {
                _ = try SystemCall.retryingInterrupts("poll", unless: isCancelled) { poll(&descriptors, 2, -1) }
            } catch {
                if error.code == .cancelled { return nil }
                return GadgetError(.functionFS, "poll on ep0 failed", cause: error)
            }
            if descriptors[1].revents != 0 { return nil }
            let count: Int
            do throws(SystemCallError) {
                count = try SystemCall.retryingInterrupts("read ep0", unless: isCancelled) {
                    buffer.withUnsafeMutableBytes { read(endpoint, $0.baseAddress, $0.count) }
                }
            } catch {
                switch error.code {
                case .cancelled: return nil
                case .wouldBlock, .identifierRemoved: continue
                default: break
                }
                consecutiveFailures += 1
                if consecutiveFailures >= Self.maximumConsecutiveReadFailures {
                    return GadgetError(.functionFS, "reading ep0 events failed \(consecutiveFailures) times in a row", cause: error)
                }
                logger.notice("reading ep0 events failed; retrying", metadata: ["error": "\(error)", "usb.failures": "\(consecutiveFailures)"])
                let milliseconds = retryDelay.components.seconds * 1000 + retryDelay.components.attoseconds / 1_000_000_000_000_000
                usleep(useconds_t(max(0, milliseconds) * 1000))
                continue
            }
            if count == 0 {
                return GadgetError(.functionFS, "ep0 reached end of file (the FunctionFS instance went away)")
            }
            consecutiveFailures = 0
            events(FunctionFSEvent.parse(buffer[..<count]))
        }
        return nil
    }
}
