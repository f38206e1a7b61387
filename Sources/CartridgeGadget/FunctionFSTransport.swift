public import CartridgeTransport
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One host session over the FunctionFS bulk endpoints: from an ENABLE until the next DISABLE,
/// UNBIND or ENABLE (host unplugged, re-configured, or a new host process reset the interface).
///
/// Each endpoint has one interruptible thread, and no bytes are handed from one thread to another
/// on the way between the bus and the caller:
/// - OUT (`ffs-rx`): blocking reads of `readSize` bytes, one after the other (the kernel wakes
///   the thread straight from the request's completion; an AIO read completes through a kernel
///   worker, one more wake-up per transfer, which a busy or emulated CPU pays in latency), each
///   into an array's own storage (a large transfer is handed over without a copy). Received bytes
///   are held (up to `readAheadLimit`) until `receive` takes them, several transfers at once if
///   the caller asks for that many bytes. Zero-length packets carry no bytes and are skipped.
///   The thread is also the session's `preferredTaskExecutor` (`EndpointReadExecutor`): the task
///   that loops on `receive` runs there between reads, so a transfer resumes it with no wake-up
///   of another thread, and its answer is submitted before the next read.
/// - IN: `send` queues the bytes in a `BulkOutQueue` and submits them itself, on the caller's
///   thread, as Linux AIO writes (`EndpointAIO`; the endpoints are non-blocking, O_NONBLOCK, so a
///   submission never waits) straight from the queued bytes (FunctionFS copies a write while it
///   is submitted): up to `writeDepth` requests of `requestSize` bytes in flight, a transfer's
///   requests in one io_submit, each transfer coalescing everything queued (the frames of several
///   senders), with a zero-length packet queued right behind a transfer that empties the queue
///   on a packet boundary. The `ffs-tx` thread reaps the write completions with `io_getevents`
///   and submits what was queued meanwhile. `send` returns at once while less than
///   `sendHighWater` bytes wait (then it suspends: back-pressure). A failed write fails the next
///   `send` (the session ends).
public final class FunctionFSTransport: CartridgeTransport {
    /// Bytes per AIO write request (adbd's 16 KiB): a transfer's requests are submitted
    /// together, and the bus starts on the first while the kernel copies the next.
    public static let requestSize = 16 * 1024
    /// Bytes per read of the OUT endpoint.
    public static let readSize = 64 * 1024
    /// Writes in flight on the IN endpoint (so one transfer is at most 512 KiB), plus one slot
    /// for the zero-length packet.
    public static let writeDepth = 32
    /// Reading stops while this many received bytes wait for `receive`.
    public static let readAheadLimit = 1024 * 1024
    /// `send` suspends while this many bytes wait to be written.
    public static let sendHighWater = 1024 * 1024

    /// wMaxPacketSize of the endpoints at the negotiated speed (64, 512 or 1024).
    public let packetSize: Int
    private let reader: DedicatedThread
    private let writer: DedicatedThread
    private let session: FunctionFSSessionState
    public let peerDescription: String

    /// The descriptors stay owned by the listener (they outlive sessions).
    init(outDescriptor: Int32, inDescriptor: Int32, packetSize: Int, peerDescription: String) {
        self.packetSize = max(packetSize, 8)
        self.peerDescription = peerDescription
        // Non-blocking endpoints: a request on a disabled endpoint completes at once with EAGAIN
        // instead of waiting in io_submit for the next ENABLE (senders submit from async code).
        for descriptor in [outDescriptor, inDescriptor] {
            let flags = fcntl(descriptor, F_GETFL)
            if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) }
        }
        let aio: EndpointAIO?
        var setupFailure: SystemCallError?
        do {
            // No slot buffers (requestSize 0): writes are submitted from the queued bytes themselves.
            aio = try EndpointAIO(descriptor: inDescriptor, depth: Self.writeDepth + 1, requestSize: 0)
        } catch {
            aio = nil
            setupFailure = error
        }
        session = FunctionFSSessionState(
            aio: aio, outDescriptor: outDescriptor,
            outbound: BulkOutQueue(packetSize: packetSize, maximumTransfer: Self.requestSize * Self.writeDepth),
            peerDescription: peerDescription)
        reader = DedicatedThread(name: "ffs-rx", interruptible: true)
        writer = DedicatedThread(name: "ffs-tx", interruptible: true)
        let (session, readerThread, writerThread) = (session, reader, writer)
        reader.submit { session.readAhead(thread: readerThread) }
        if let setupFailure {
            session.failSend(setupFailure)
        } else {
            writer.submit { session.reapWrites(thread: writerThread) }
        }
    }

    deinit { close() }

    /// The OUT endpoint's thread, between its reads (`EndpointReadExecutor`): a received transfer
    /// resumes the task that loops on `receive` there, with no wake-up of another thread.
    public var preferredTaskExecutor: (any TaskExecutor)? { session.executor }

    // MARK: Receiving

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        precondition(maximumCount > 0)
        while true {
            enum Step { case bytes([UInt8]), failed(TransportError), wait }
            let step: Step = session.state.withLock { state in
                if state.closed { return .failed(TransportError(.closed, "\(peerDescription) is closed")) }
                if let bytes = state.received.take(upTo: maximumCount) { return .bytes(bytes) }
                if let failure = state.receiveFailure { return .failed(failure) }
                if state.ended { return .failed(session.disconnected("receive")) }
                return .wait
            }
            switch step {
            case .bytes(let bytes): return bytes
            case .failed(let error): throw error
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = session.state.withLock { state -> Bool in
                        if !state.received.isEmpty || state.receiveFailure != nil || state.ended || state.closed { return true }
                        state.receiver = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    // MARK: Sending

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        if bytes.isEmpty {
            try session.state.withLock { state throws(TransportError) in try session.checkSendable(state) }
            return
        }
        while true {
            typealias Waiters = [CheckedContinuation<Void, Never>]
            let queued = try session.state.withLock { state throws(TransportError) -> Waiters? in
                try session.checkSendable(state)
                guard state.outbound.count < Self.sendHighWater else { return nil }
                state.outbound.append(bytes)
                session.submitWrites(&state)
                guard state.sendFailure != nil else { return [] }
                defer { state.senders = [] }
                return state.senders  // the write failed at once: waiting senders learn it too
            }
            if let waiters = queued {
                for waiter in waiters { waiter.resume() }
                return
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = session.state.withLock { state -> Bool in
                    if state.outbound.count < Self.sendHighWater || state.sendFailure != nil || state.ended || state.closed {
                        return true
                    }
                    state.senders.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    // MARK: Ending

    /// The session is over (DISABLE, UNBIND, a new ENABLE, or the listener closing): in-flight and
    /// later I/O fail with `.disconnected`. Returns once no endpoint call of this session is in
    /// flight (senders submit only under the session's lock, and not once it has ended; the
    /// writer's job cancels the requests in flight and returns).
    func end() {
        session.end()
        reader.cancel()
        writer.cancel()
    }

    /// Closes the session's side: bytes still queued get a moment (at most 0.5 s) to be written,
    /// then the endpoint threads are stopped.
    public func close() { Self.close(session: session, reader: reader, writer: writer) }

    /// `close()` on the session's parts, not on self: on the reader thread (a task on this
    /// session's executor) it cannot stop that thread from within, and goes on from another
    /// thread without waiting; `self` may be in its deinit there, so it is not captured.
    private static func close(session: FunctionFSSessionState, reader: DedicatedThread, writer: DedicatedThread) {
        if reader.isCurrentThread {
            Task.detached { close(session: session, reader: reader, writer: writer) }
            return
        }
        guard session.markClosing() else { return }
        for _ in 0..<250 {
            if !session.state.withLock({ $0.isWriting && !$0.ended && $0.sendFailure == nil }) { break }
            usleep(2_000)
        }
        session.close()
        reader.shutdown()
        writer.shutdown()
        session.destroyAIO()
    }
}

/// What the endpoint threads and the transport's callers share, behind one lock. The writes' AIO
/// context is used under the lock (submissions, slot bookkeeping), except the writer thread's wait
/// for completions.
final class FunctionFSSessionState: @unchecked Sendable {
    // @unchecked: `aio` is only touched under `state`'s lock (or by the writer thread's wait, which
    // EndpointAIO allows), and destroyed once nothing can submit; the rest is immutable or in `state`.
    struct State {
        var closing = false
        var closed = false
        var ended = false
        /// The writer thread stopped and destroyed the AIO context: nothing may be submitted.
        var ioStopped = false
        var received = ReceivedBytes()
        var receiveFailure: TransportError?
        var receiver: CheckedContinuation<Void, Never>?
        var outbound: BulkOutQueue
        /// The transfer being submitted: its bytes, how many are submitted, whether its
        /// zero-length packet is still to be queued.
        var current: [UInt8] = []
        var currentSubmitted = 0
        var zeroLengthPacketPending = false
        /// Bytes of each write slot in flight.
        var writesInFlight: [Int: Int] = [:]
        var sendFailure: TransportError?
        var senders: [CheckedContinuation<Void, Never>] = []

        /// Bytes queued or in flight.
        var isWriting: Bool {
            !outbound.isEmpty || currentSubmitted < current.count || zeroLengthPacketPending || !writesInFlight.isEmpty
        }
    }

    let state: Mutex<State>
    let peerDescription: String
    /// The OUT endpoint's thread as an executor for the task that loops on `receive`.
    let executor = EndpointReadExecutor()
    private let aio: EndpointAIO?
    private let outDescriptor: Int32

    init(aio: EndpointAIO?, outDescriptor: Int32, outbound: BulkOutQueue, peerDescription: String) {
        self.aio = aio
        self.outDescriptor = outDescriptor
        state = Mutex(State(outbound: outbound))
        self.peerDescription = peerDescription
    }

    func disconnected(_ operation: String) -> TransportError {
        TransportError(.disconnected, "\(operation) on \(peerDescription): the host disabled the function (unplug or reset)")
    }

    func checkSendable(_ state: State) throws(TransportError) {
        if state.closed || state.closing { throw TransportError(.closed, "\(peerDescription) is closed") }
        if let failure = state.sendFailure { throw failure }
        if state.ended { throw disconnected("send") }
    }

    // MARK: The endpoint threads

    /// The OUT endpoint's job for the whole session: reads one request after the other while the
    /// held bytes leave room, hands each to `receive` (resuming it straight from this thread),
    /// ends on cancellation or the first failed read.
    func readAhead(thread: DedicatedThread) {
        let size = FunctionFSTransport.readSize
        // Reads land in an array's own storage: a large transfer is handed to `receive` as it is
        // (its spare capacity is at most half of it), a small one is copied out and the buffer
        // read into again.
        func freshBuffer() -> [UInt8] { [UInt8](unsafeUninitializedCapacity: size) { _, initialized in initialized = size } }
        var buffer = freshBuffer()
        var receivedAny = false
        defer { executor.stop() }
        // Blocks in `body` unless jobs are queued (then runs them first and returns nil).
        func blocking<Result>(_ body: () -> Result) -> Result? {
            guard executor.block() else { return nil }
            defer { executor.unblock() }
            return body()
        }
        while !thread.isCancelled {
            executor.runQueued()  // the tasks this thread's deliveries resumed
            if state.withLock({ $0.received.count }) + size > FunctionFSTransport.readAheadLimit {
                _ = blocking { usleep(2_000) }  // `receive` has not taken what is held yet
                continue
            }
            guard let count = blocking({ buffer.withUnsafeMutableBytes { Glibc.read(outDescriptor, $0.baseAddress!, size) } }) else { continue }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }  // a signal: re-check cancellation
                // Not enabled (yet or any more: O_NONBLOCK), or (before the first data) EPIPE while
                // the host clears the halt, as adbd sees: look again shortly (end() cancels).
                if code == EAGAIN || (code == EPIPE && !receivedAny) {
                    _ = blocking { usleep(2_000) }
                    continue
                }
                failReceive(SystemCallError(systemCall: "read", errno: code))
                return
            }
            if count == 0 { continue }  // a zero-length packet
            receivedAny = true
            if count >= size / 2 {
                var chunk = buffer
                buffer = freshBuffer()
                chunk.removeLast(size - count)  // unique now: in place
                deliver(chunk)
            } else {
                deliver(Array(buffer[0..<count]))
            }
        }
        failReceive(SystemCallError(systemCall: "read", errno: ECANCELED))
    }

    /// Received bytes for `receive`.
    private func deliver(_ bytes: [UInt8]) {
        let receiver = state.withLock { state in
            state.received.append(bytes)
            defer { state.receiver = nil }
            return state.receiver
        }
        receiver?.resume()
    }

    /// The IN endpoint's job for the whole session: reaps write completions (every one the kernel
    /// has at each wake-up), checks them, submits what was queued meanwhile, resumes the senders
    /// that waited for room once per batch; ends on cancellation (then cancels what is in flight).
    func reapWrites(thread: DedicatedThread) {
        guard let aio else { return }
        var failure: SystemCallError?
        while !thread.isCancelled {
            let completions: [(slot: Int, result: Int)]
            do {
                completions = try aio.waitForCompletions()
            } catch {
                if error.errno == EINTR { continue }
                failure = error
                break
            }
            let (senders, receiver) = state.withLock { state in handleWrites(completions, &state) }
            for sender in senders { sender.resume() }
            receiver?.resume()
        }
        state.withLock { $0.ioStopped = true }
        aio.destroy()  // cancels the requests in flight and waits until the kernel let go of the buffers
        failSend(failure ?? SystemCallError(systemCall: "write", errno: ECANCELED))
    }

    /// Applies a batch of write completions (lock held) and submits what is queued. Returns the
    /// senders and the receiver to resume.
    private func handleWrites(
        _ completions: [(slot: Int, result: Int)], _ state: inout State
    ) -> ([CheckedContinuation<Void, Never>], CheckedContinuation<Void, Never>?) {
        guard let aio else { return ([], nil) }
        for (slot, result) in completions {
            aio.finished(slot)
            let expected = state.writesInFlight.removeValue(forKey: slot) ?? 0
            aio.release(slot)
            guard state.sendFailure == nil else { continue }
            if result < 0 {
                // EAGAIN: the endpoint is not enabled (O_NONBLOCK), i.e. the host went away.
                let code = Int32(-result) == EAGAIN ? ESHUTDOWN : Int32(-result)
                recordSendFailure(SystemCallError(systemCall: "write", errno: code), &state)
            } else if result != expected {
                recordSendFailure(SystemCallError(systemCall: "write", errno: EIO), &state)
            }
        }
        submitWrites(&state)
        var senders: [CheckedContinuation<Void, Never>] = []
        if state.outbound.count < FunctionFSTransport.sendHighWater || state.sendFailure != nil || state.ended {
            senders = state.senders
            state.senders = []
        }
        // A disconnect seen by a write also ends a waiting receive.
        var receiver: CheckedContinuation<Void, Never>?
        if state.ended {
            receiver = state.receiver
            state.receiver = nil
        }
        return (senders, receiver)
    }

    /// Submits queued bytes while write slots are free (lock held; called by `send` on the
    /// caller's thread and by the I/O thread as writes complete). A transfer is everything queued
    /// (up to `BulkOutQueue.maximumTransfer`), submitted as requests of at most `requestSize`
    /// bytes, with its zero-length packet (a request of 0 bytes) right behind it when it needs one.
    func submitWrites(_ state: inout State) {
        guard let aio else { return }
        let size = FunctionFSTransport.requestSize
        while !state.ioStopped, !state.ended, !state.closed, state.sendFailure == nil {
            if state.currentSubmitted == state.current.count && !state.zeroLengthPacketPending {
                guard let transfer = state.outbound.nextTransfer() else { return }
                state.current = transfer.bytes
                state.currentSubmitted = 0
                state.zeroLengthPacketPending = transfer.needsZeroLengthPacket
            }
            // The rest of this transfer, as far as free slots go, in one io_submit: the kernel
            // queues each request as it takes it, so the bus starts on the first while the next
            // ones are copied.
            var planned: [(slot: Int, offset: Int, length: Int)] = []
            var offset = state.currentSubmitted
            var zeroLengthPacket = state.zeroLengthPacketPending
            while offset < state.current.count || zeroLengthPacket, let slot = aio.reserveSlot() {
                let count = min(size, state.current.count - offset)
                if count == 0 { zeroLengthPacket = false }
                planned.append((slot, offset, count))
                offset += count
            }
            guard !planned.isEmpty else { return }
            // Straight from the queued bytes: FunctionFS copies a write's bytes while it is
            // submitted (EndpointAIO.submitWrites), so no copy into a slot buffer first.
            let (submitted, error) = state.current.withUnsafeBytes { bytes in
                aio.submitWrites(planned.map { request in (request.slot, bytes.baseAddress.map { $0 + request.offset }, request.length) })
            }
            for request in planned.prefix(submitted) {
                state.writesInFlight[request.slot] = request.length
                if request.length == 0 { state.zeroLengthPacketPending = false }
                state.currentSubmitted += request.length
            }
            for request in planned.dropFirst(submitted) { aio.release(request.slot) }
            if let error {
                recordSendFailure(error, &state)
                return
            }
            if submitted < planned.count { continue }  // the next one alone: its error, or it goes now
        }
    }

    /// Destroys the AIO context once the writer thread has stopped (idempotent).
    func destroyAIO() {
        state.withLock { $0.ioStopped = true }
        aio?.destroy()
    }

    // MARK: Failures and ending

    private func recordReceiveFailure(_ error: SystemCallError, _ state: inout State) {
        state.receiveFailure = state.receiveFailure ?? transportError(error, "receive", &state)
    }

    private func recordSendFailure(_ error: SystemCallError, _ state: inout State) {
        state.sendFailure = state.sendFailure ?? transportError(error, "send", &state)
        state.outbound.removeAll()
        state.current = []
        state.currentSubmitted = 0
        state.zeroLengthPacketPending = false
    }

    func failReceive(_ error: SystemCallError) {
        let receiver = state.withLock { state in
            recordReceiveFailure(error, &state)
            defer { state.receiver = nil }
            return state.receiver
        }
        receiver?.resume()
    }

    func failSend(_ error: SystemCallError) {
        let senders = state.withLock { state in
            recordSendFailure(error, &state)
            defer { state.senders = [] }
            return state.senders
        }
        for sender in senders { sender.resume() }
    }

    private func transportError(_ error: SystemCallError, _ operation: String, _ state: inout State) -> TransportError {
        if FunctionFSTransport.meansDisconnected(error) || error.errno == ECANCELED { state.ended = true }
        if state.closed || state.closing { return TransportError(.closed, "\(peerDescription) is closed") }
        if state.ended {
            return TransportError(.disconnected, "\(operation) on \(peerDescription): the host went away", cause: error)
        }
        return TransportError.from(error, context: "\(operation) on \(peerDescription)", meansDisconnected: FunctionFSTransport.meansDisconnected)
    }

    func end() { wakeAll { $0.ended = true } }

    /// True the first time.
    func markClosing() -> Bool {
        state.withLock { state in
            defer { state.closing = true }
            return !state.closing
        }
    }

    func close() { wakeAll { $0.closed = true } }

    private func wakeAll(_ change: (inout State) -> Void) {
        let (receiver, senders) = state.withLock { state in
            change(&state)
            defer { state.receiver = nil; state.senders = [] }
            return (state.receiver, state.senders)
        }
        receiver?.resume()
        for sender in senders { sender.resume() }
    }
}
