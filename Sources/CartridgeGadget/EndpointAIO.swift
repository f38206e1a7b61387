import CFunctionFS
import CartridgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Linux AIO on one FunctionFS endpoint: `depth` request slots with a buffer of `requestSize`
/// bytes each, so that several reads (or writes) are queued on the endpoint at once and the bus
/// never waits for the process between two requests. Completions are handed back oldest first
/// (the order the bytes travelled). Not thread-safe: one endpoint thread's job owns it.
final class EndpointAIO {
    let descriptor: Int32
    let depth: Int
    let requestSize: Int
    private let context: aio_context_t
    private let controls: UnsafeMutablePointer<iocb>
    private let events: UnsafeMutablePointer<io_event>
    private let buffers: UnsafeMutableRawPointer
    /// Slots in flight, oldest first.
    private var inFlight: [Int] = []
    /// Slots not in flight.
    private var idle: [Int]
    /// Results of completed requests not yet handed out (a newer one completed first).
    private var completed: [Int: Int] = [:]
    private var destroyed = false

    init(descriptor: Int32, depth: Int, requestSize: Int) throws(SystemCallError) {
        var created = aio_context_t()
        guard CFunctionFS_io_setup(UInt32(depth), &created) == 0 else { throw .current("io_setup") }
        self.descriptor = descriptor
        self.depth = depth
        self.requestSize = requestSize
        context = created
        controls = .allocate(capacity: depth)
        controls.initialize(repeating: iocb(), count: depth)
        events = .allocate(capacity: depth)
        events.initialize(repeating: io_event(), count: depth)
        buffers = .allocate(byteCount: depth * requestSize, alignment: 4096)
        idle = Array((0..<depth).reversed())
    }

    deinit {
        destroy()
        controls.deallocate()
        events.deallocate()
        buffers.deallocate()
    }

    var inFlightCount: Int { inFlight.count }
    var hasFreeSlot: Bool { !idle.isEmpty }

    /// The buffer of `slot` (`requestSize` bytes).
    func buffer(_ slot: Int) -> UnsafeMutableRawPointer { buffers + slot * requestSize }

    /// A slot that is not in flight, to fill before `submit`; nil when all are.
    func reserveSlot() -> Int? { idle.popLast() }

    /// Gives back a reserved slot that was not submitted.
    func release(_ slot: Int) { idle.append(slot) }

    /// Queues a read into (or a write from) the buffer of a reserved `slot`.
    func submit(slot: Int, length: Int, isWrite: Bool) throws(SystemCallError) {
        let result = CFunctionFS_io_submit_one(
            context, controls + slot, descriptor, isWrite ? 1 : 0, buffer(slot), length, UInt64(slot))
        guard result == 1 else {
            throw result < 0 ? .current("io_submit") : SystemCallError(systemCall: "io_submit", errno: EAGAIN)
        }
        inFlight.append(slot)
    }

    /// Waits for the oldest request in flight and returns its slot (reserved again: submit or
    /// release it) and result: bytes transferred, or -errno. Nil if none is in flight. Throws
    /// EINTR when a signal interrupted the wait (the caller checks for cancellation).
    func waitOldest() throws(SystemCallError) -> (slot: Int, result: Int)? {
        guard let oldest = inFlight.first else { return nil }
        while completed[oldest] == nil {
            let count = CFunctionFS_io_getevents(context, 1, depth, events, -1)
            if count < 0 { throw .current("io_getevents") }
            for index in 0..<Int(count) {
                completed[Int(events[index].data)] = Int(events[index].res)
            }
        }
        inFlight.removeFirst()
        return (oldest, completed.removeValue(forKey: oldest)!)
    }

    /// Cancels every request in flight and waits until the kernel is done with the buffers.
    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        var result = io_event()
        for slot in inFlight { _ = CFunctionFS_io_cancel(context, controls + slot, &result) }
        _ = CFunctionFS_io_destroy(context)  // waits for requests that could not be cancelled
        inFlight = []
    }
}
