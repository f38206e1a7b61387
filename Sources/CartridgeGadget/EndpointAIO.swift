import CFunctionFS
import CartridgeSystem
#if canImport(Glibc)
import Glibc
#endif

/// Linux AIO on FunctionFS endpoints: one kernel AIO context with `depth` request slots, each with
/// a buffer of `requestSize` bytes, so that several reads and writes are queued on the endpoints at
/// once and the bus never waits for the process between two requests. One context can serve both
/// endpoints of a session (each request names its descriptor): one thread then reaps the reads and
/// the writes with a single `io_getevents`, as adbd does.
///
/// Not thread-safe: the caller serializes every call (one thread, or one lock), except
/// `waitForCompletions`, which only touches the kernel context and its own event buffer and may
/// run outside the caller's lock on one thread at a time.
final class EndpointAIO: @unchecked Sendable {
    // @unchecked: see above; the pointers are fixed after init.
    /// The descriptor requests go to unless `submit` names another.
    let descriptor: Int32
    let depth: Int
    let requestSize: Int
    private let context: aio_context_t
    private let controls: UnsafeMutablePointer<iocb>
    private let events: UnsafeMutablePointer<io_event>
    private let buffers: UnsafeMutableRawPointer
    /// Slots in flight, oldest first.
    private var inFlight: [Int] = []
    /// Slots not in flight and not reserved.
    private var idle: [Int]
    private var destroyed = false

    init(descriptor: Int32 = -1, depth: Int, requestSize: Int) throws(SystemCallError) {
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

    /// A slot that is neither in flight nor reserved, to fill before `submit`; nil when none is.
    func reserveSlot() -> Int? { idle.popLast() }

    /// Gives back a reserved slot that is not in flight.
    func release(_ slot: Int) { idle.append(slot) }

    /// Queues a read into (or a write from) the buffer of a reserved `slot`, on `descriptor` (default:
    /// the one given at init). A request the endpoint refuses (disabled, halted) is not an error here:
    /// it completes at once with -errno.
    func submit(slot: Int, length: Int, isWrite: Bool, descriptor: Int32? = nil) throws(SystemCallError) {
        let result = CFunctionFS_io_submit_one(
            context, controls + slot, descriptor ?? self.descriptor, isWrite ? 1 : 0, buffer(slot), length, UInt64(slot))
        guard result == 1 else {
            throw result < 0 ? .current("io_submit") : SystemCallError(systemCall: "io_submit", errno: EAGAIN)
        }
        inFlight.append(slot)
    }

    /// Queues writes in reserved slots, in order, in one system call: each of `length` bytes at
    /// `bytes` (the caller's memory, not the slot's buffer; nil only for a zero-length write).
    /// Only for descriptors that copy a write's bytes while the request is submitted, so the
    /// bytes may go away once this returns: FunctionFS does (`ffs_epfile_io` copies them into its
    /// own request buffer with `copy_from_iter_full` before `usb_ep_queue`; unlike its reads, its
    /// AIO writes keep no reference to the caller's iovec), as does a buffered regular file.
    /// Returns how many the kernel took (the first ones; the others are not in flight and their
    /// slots still reserved), and the error when it took none.
    func submitWrites(_ requests: [(slot: Int, bytes: UnsafeRawPointer?, length: Int)]) -> (submitted: Int, error: SystemCallError?) {
        guard !requests.isEmpty else { return (0, nil) }
        var list: [UnsafeMutablePointer<iocb>?] = []
        list.reserveCapacity(requests.count)
        for request in requests {
            let control = controls + request.slot
            CFunctionFS_iocb_prepare(control, descriptor, 1, UnsafeMutableRawPointer(mutating: request.bytes), request.length, UInt64(request.slot))
            list.append(control)
        }
        let result = list.withUnsafeMutableBufferPointer { CFunctionFS_io_submit(context, $0.count, $0.baseAddress) }
        if result < 0 { return (0, .current("io_submit")) }
        if result == 0 { return (0, SystemCallError(systemCall: "io_submit", errno: EAGAIN)) }
        for request in requests.prefix(Int(result)) { inFlight.append(request.slot) }
        return (Int(result), nil)
    }

    /// Waits until at least one request completes (or `timeoutNanoseconds` pass; negative: no
    /// limit) and returns every completion the kernel has, as (slot, bytes transferred or -errno).
    /// The slots stay counted in flight until `finished`. Throws EINTR when a signal interrupted
    /// the wait (the caller checks for cancellation). Blocking: only on an endpoint thread.
    func waitForCompletions(timeoutNanoseconds: Int64 = -1) throws(SystemCallError) -> [(slot: Int, result: Int)] {
        let count = CFunctionFS_io_getevents(context, 1, depth, events, timeoutNanoseconds)
        if count < 0 { throw .current("io_getevents") }
        return (0..<Int(count)).map { (Int(events[$0].data), Int(events[$0].res)) }
    }

    /// A completion `waitForCompletions` returned has been handled: the slot is no longer in
    /// flight (and reserved again: submit or release it).
    func finished(_ slot: Int) {
        if let index = inFlight.firstIndex(of: slot) { inFlight.remove(at: index) }
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
