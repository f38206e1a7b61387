public import CartridgeTransport
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One host session over the FunctionFS bulk endpoints: from an ENABLE until the next DISABLE,
/// UNBIND or ENABLE (host unplugged, re-configured, or a new host process reset the interface).
///
/// The endpoints are pipelined with Linux AIO (`EndpointAIO`), each driven by its own
/// interruptible thread:
/// - OUT: from the start of the session `readDepth` reads of `requestSize` bytes are kept queued,
///   so the host's data lands in a posted request while the process is busy; completed reads are
///   held (up to `readAheadLimit` bytes) until `receive` takes them, several transfers at once if
///   the caller asks for that many bytes. Zero-length packets carry no bytes and are skipped.
/// - IN: `send` queues the bytes in a `BulkOutQueue` and returns at once while less than
///   `sendHighWater` bytes wait (then it suspends: back-pressure). The writer thread takes
///   everything queued as one transfer (coalescing the frames of several senders), writes it as up
///   to `writeDepth` requests in flight, and queues a zero-length packet right behind it when it
///   empties the queue on a packet boundary (a small transfer without one is a plain blocking
///   write). A failed write fails the next `send` (the session ends).
public final class FunctionFSTransport: CartridgeTransport {
    /// Bytes per AIO request (adbd uses 16 KiB; 64 KiB halves the requests on a fast bus).
    public static let requestSize = 64 * 1024
    /// Reads kept queued on the OUT endpoint.
    public static let readDepth = 4
    /// Writes in flight on the IN endpoint (so one transfer is at most 512 KiB).
    public static let writeDepth = 8
    /// Read ahead stops while this many received bytes wait for `receive`.
    public static let readAheadLimit = 1024 * 1024
    /// `send` suspends while this many bytes wait to be written.
    public static let sendHighWater = 1024 * 1024

    private let outDescriptor: Int32
    private let inDescriptor: Int32
    /// wMaxPacketSize of the endpoints at the negotiated speed (64, 512 or 1024).
    public let packetSize: Int
    private let reader: DedicatedThread
    private let writer: DedicatedThread
    private let session: FunctionFSSessionState
    private let writerAIO = WriterAIOBox()
    public let peerDescription: String

    /// The descriptors stay owned by the listener (they outlive sessions).
    init(outDescriptor: Int32, inDescriptor: Int32, packetSize: Int, peerDescription: String) {
        self.outDescriptor = outDescriptor
        self.inDescriptor = inDescriptor
        self.packetSize = max(packetSize, 8)
        self.peerDescription = peerDescription
        session = FunctionFSSessionState(
            outbound: BulkOutQueue(packetSize: packetSize, maximumTransfer: Self.requestSize * Self.writeDepth),
            peerDescription: peerDescription)
        reader = DedicatedThread(name: "ffs-rx", interruptible: true)
        writer = DedicatedThread(name: "ffs-tx", interruptible: true)
        let (session, thread, descriptor) = (session, reader, outDescriptor)
        reader.submit { FunctionFSTransport.readAhead(session: session, thread: thread, descriptor: descriptor) }
    }

    deinit { close() }

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

    /// The OUT endpoint's job for the whole session: keeps reads queued, hands completed ones to
    /// `receive` in order, ends on cancellation or the first failed read.
    private static func readAhead(session: FunctionFSSessionState, thread: DedicatedThread, descriptor: Int32) {
        let aio: EndpointAIO
        do {
            aio = try EndpointAIO(descriptor: descriptor, depth: readDepth, requestSize: requestSize)
        } catch {
            session.failReceive(error)
            return
        }
        defer { aio.destroy() }
        var receivedAny = false
        while true {
            if thread.isCancelled {
                session.failReceive(SystemCallError(systemCall: "read", errno: ECANCELED))
                return
            }
            // Keep reads queued while the held bytes leave room for them.
            let held = session.state.withLock { $0.received.count }
            while held + (aio.inFlightCount + 1) * requestSize <= readAheadLimit, let slot = aio.reserveSlot() {
                do {
                    try aio.submit(slot: slot, length: requestSize, isWrite: false)
                } catch {
                    aio.release(slot)
                    if error.errno == EINTR { break }  // interrupted while the endpoint is disabled: re-check
                    session.failReceive(error)
                    return
                }
            }
            if aio.inFlightCount == 0 {
                usleep(2_000)  // `receive` has not taken what is held yet
                continue
            }
            let completion: (slot: Int, result: Int)?
            do {
                completion = try aio.waitOldest()
            } catch {
                if error.errno == EINTR { continue }
                session.failReceive(error)
                return
            }
            guard let (slot, result) = completion else { continue }
            aio.release(slot)
            if result < 0 {
                // Before the first data a read can fail EPIPE while the host clears the halt (as adbd sees).
                if Int32(-result) == EPIPE && !receivedAny { continue }
                session.failReceive(SystemCallError(systemCall: "read", errno: Int32(-result)))
                return
            }
            if result > 0 {
                receivedAny = true
                session.deliver([UInt8](UnsafeRawBufferPointer(start: aio.buffer(slot), count: result)))
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
            enum Step { case queued(startWriter: Bool), wait }
            let step = try session.state.withLock { state throws(TransportError) -> Step in
                try session.checkSendable(state)
                guard state.outbound.count < Self.sendHighWater else { return .wait }
                state.outbound.append(bytes)
                if state.writing { return .queued(startWriter: false) }
                state.writing = true
                return .queued(startWriter: true)
            }
            switch step {
            case .queued(let startWriter):
                if startWriter { startWriting() }
                return
            case .wait:
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
    }

    private func startWriting() {
        let (session, thread, descriptor, box, packetSize) = (session, writer, inDescriptor, writerAIO, packetSize)
        let accepted = writer.submit {
            FunctionFSTransport.writeQueued(session: session, thread: thread, descriptor: descriptor, box: box, packetSize: packetSize)
        }
        if !accepted { session.failSend(SystemCallError(systemCall: "write", errno: ECANCELED)) }
    }

    /// The IN endpoint's job: writes transfers until the queue is empty.
    private static func writeQueued(
        session: FunctionFSSessionState, thread: DedicatedThread, descriptor: Int32, box: WriterAIOBox, packetSize: Int
    ) {
        while true {
            guard let transfer = session.nextTransfer() else { return }
            do {
                try write(transfer, descriptor: descriptor, thread: thread, box: box)
            } catch {
                session.failSend(error)
                return
            }
        }
    }

    /// Writes one transfer as AIO requests of at most `requestSize` bytes, up to `writeDepth` in
    /// flight, and the zero-length packet (a request of 0 bytes) queued right behind the data when
    /// the transfer needs one, so that it leaves in the same bus frame instead of after the data's
    /// completion has come back to this thread.
    private static func write(_ transfer: BulkTransfer, descriptor: Int32, thread: DedicatedThread, box: WriterAIOBox) throws(SystemCallError) {
        if transfer.bytes.count <= requestSize && !transfer.needsZeroLengthPacket {
            // One request and nothing behind it: a blocking write wakes this thread straight from
            // the request's completion (AIO completes through a kernel worker: one more wake-up
            // per small frame, which costs latency on a busy or emulated CPU).
            try blockingWrite(transfer.bytes, descriptor: descriptor, thread: thread)
            return
        }
        if box.aio == nil { box.aio = try EndpointAIO(descriptor: descriptor, depth: writeDepth + 1, requestSize: requestSize) }
        let aio = box.aio!
        let bytes = transfer.bytes
        let total = bytes.count
        var submitted = 0
        var completed = 0
        var zeroLengthPacketSubmitted = !transfer.needsZeroLengthPacket
        while completed < total || aio.inFlightCount > 0 || !zeroLengthPacketSubmitted {
            if thread.isCancelled {
                aio.destroy()
                box.aio = nil
                throw SystemCallError(systemCall: "write", errno: ECANCELED)
            }
            while submitted < total || !zeroLengthPacketSubmitted, let slot = aio.reserveSlot() {
                let count = min(requestSize, total - submitted)
                if count > 0 {
                    bytes.withUnsafeBytes { aio.buffer(slot).copyMemory(from: $0.baseAddress! + submitted, byteCount: count) }
                }
                do {
                    try aio.submit(slot: slot, length: count, isWrite: true)
                } catch {
                    aio.release(slot)
                    if error.errno == EINTR { break }
                    throw error
                }
                if count == 0 { zeroLengthPacketSubmitted = true }
                submitted += count
            }
            let completion: (slot: Int, result: Int)?
            do {
                completion = try aio.waitOldest()
            } catch {
                if error.errno == EINTR { continue }
                throw error
            }
            guard let (slot, result) = completion else { continue }
            aio.release(slot)
            if result < 0 { throw SystemCallError(systemCall: "write", errno: Int32(-result)) }
            let expected = min(requestSize, total - completed)
            guard result == expected else { throw SystemCallError(systemCall: "write", errno: EIO) }
            completed += result
        }
    }

    /// write(2) of all of `bytes`, retrying EINTR until cancelled.
    private static func blockingWrite(_ bytes: [UInt8], descriptor: Int32, thread: DedicatedThread) throws(SystemCallError) {
        var offset = 0
        while offset < bytes.count {
            if thread.isCancelled { throw SystemCallError(systemCall: "write", errno: ECANCELED) }
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw .current("write")
            }
            offset += written
        }
    }

    // MARK: Ending

    /// The session is over (DISABLE, UNBIND, a new ENABLE, or the listener closing): in-flight and
    /// later I/O fail with `.disconnected`. Returns once no endpoint call of this session is in flight.
    func end() {
        session.end()
        reader.cancel()
        writer.cancel()
    }

    /// Closes the session's side: bytes still queued get a moment (at most 0.5 s) to be written,
    /// then the endpoint threads are stopped.
    public func close() {
        guard session.markClosing() else { return }
        for _ in 0..<250 {
            if !session.state.withLock({ $0.writing && !$0.ended }) { break }
            usleep(2_000)
        }
        session.close()
        reader.shutdown()
        writer.shutdown()
        writerAIO.aio?.destroy()
        writerAIO.aio = nil
    }
}

/// The writer thread's AIO context, created with the first large transfer and kept for the
/// session. Touched only by the writer thread's jobs, and by `close()` after that thread is joined.
final class WriterAIOBox: @unchecked Sendable {
    var aio: EndpointAIO?
}

/// What the endpoint threads and the transport's callers share, behind one lock.
final class FunctionFSSessionState: Sendable {
    struct State {
        var closing = false
        var closed = false
        var ended = false
        var received = ReceivedBytes()
        var receiveFailure: TransportError?
        var receiver: CheckedContinuation<Void, Never>?
        var outbound: BulkOutQueue
        var writing = false
        var sendFailure: TransportError?
        var senders: [CheckedContinuation<Void, Never>] = []
    }

    let state: Mutex<State>
    let peerDescription: String

    init(outbound: BulkOutQueue, peerDescription: String) {
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

    /// Received bytes for `receive`.
    func deliver(_ bytes: [UInt8]) {
        let receiver = state.withLock { state in
            state.received.append(bytes)
            defer { state.receiver = nil }
            return state.receiver
        }
        receiver?.resume()
    }

    func failReceive(_ error: SystemCallError) {
        let receiver = state.withLock { state in
            state.receiveFailure = state.receiveFailure ?? transportError(error, "receive", &state)
            defer { state.receiver = nil }
            return state.receiver
        }
        receiver?.resume()
    }

    func failSend(_ error: SystemCallError) {
        let senders = state.withLock { state in
            state.sendFailure = state.sendFailure ?? transportError(error, "send", &state)
            state.outbound.removeAll()
            state.writing = false
            defer { state.senders = [] }
            return state.senders
        }
        for sender in senders { sender.resume() }
    }

    /// The next transfer for the writer thread; nil (and the writer stops) when nothing is queued.
    func nextTransfer() -> BulkTransfer? {
        let (transfer, senders) = state.withLock { state -> (BulkTransfer?, [CheckedContinuation<Void, Never>]) in
            guard !state.ended, !state.closed, let transfer = state.outbound.nextTransfer() else {
                state.writing = false
                state.outbound.removeAll()
                defer { state.senders = [] }
                return (nil, state.senders)
            }
            guard state.outbound.count < FunctionFSTransport.sendHighWater else { return (transfer, []) }
            defer { state.senders = [] }
            return (transfer, state.senders)
        }
        for sender in senders { sender.resume() }
        return transfer
    }

    private func transportError(_ error: SystemCallError, _ operation: String, _ state: inout State) -> TransportError {
        if error.meansDisconnected || error.errno == ECANCELED { state.ended = true }
        if state.closed || state.closing { return TransportError(.closed, "\(peerDescription) is closed") }
        if state.ended {
            return TransportError(.disconnected, "\(operation) on \(peerDescription): the host went away", cause: error)
        }
        return TransportError.from(error, context: "\(operation) on \(peerDescription)")
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
