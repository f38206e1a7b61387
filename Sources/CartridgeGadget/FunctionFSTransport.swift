public import CartridgeTransport
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One host session over the FunctionFS bulk endpoints: from an ENABLE until the next DISABLE,
/// UNBIND or ENABLE (host unplugged, re-configured, or a new host process reset the interface).
///
/// Blocking endpoint I/O runs on two interruptible threads. Sends are written in chunks of at most
/// `chunkSize` and end with a zero-length packet when their length is a multiple of wMaxPacketSize,
/// so a host that posted a larger buffer sees the end of the message. Reads are sized as multiples
/// of wMaxPacketSize (FunctionFS rounds OUT requests up anyway); bytes beyond `maximumCount` are kept
/// for the next `receive`. A ZLP from the host is skipped (it carries no bytes).
public final class FunctionFSTransport: CartridgeTransport {
    private struct State {
        var closed = false
        var ended = false
        var leftover = ReceiveLeftover()
    }

    /// Largest single endpoint write/read (FunctionFS allocates a kernel buffer of this size per call).
    public static let chunkSize = 64 * 1024

    private let outDescriptor: Int32
    private let inDescriptor: Int32
    /// wMaxPacketSize of the endpoints at the negotiated speed (64, 512 or 1024).
    public let packetSize: Int
    private let reader: DedicatedThread
    private let writer: DedicatedThread
    private let state = Mutex(State())
    public let peerDescription: String

    /// The descriptors stay owned by the listener (they outlive sessions).
    init(outDescriptor: Int32, inDescriptor: Int32, packetSize: Int, peerDescription: String) {
        self.outDescriptor = outDescriptor
        self.inDescriptor = inDescriptor
        self.packetSize = max(packetSize, 8)
        self.peerDescription = peerDescription
        reader = DedicatedThread(name: "ffs-rx", interruptible: true)
        writer = DedicatedThread(name: "ffs-tx", interruptible: true)
    }

    deinit { close() }

    private func checkUsable() throws(TransportError) {
        let (closed, ended) = state.withLock { ($0.closed, $0.ended) }
        if closed { throw TransportError(.closed, "\(peerDescription) is closed") }
        if ended { throw TransportError(.disconnected, "\(peerDescription): the host disabled the function (unplug or reset)") }
    }

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        precondition(maximumCount > 0)
        try checkUsable()
        if let buffered = state.withLock({ $0.leftover.take(upTo: maximumCount) }) { return buffered }

        let size = min(Self.chunkSize, roundedUp(max(maximumCount, 16 * 1024)))
        let descriptor = outDescriptor
        let thread = reader
        let outcome = try? await reader.run { () -> Result<[UInt8], SystemCallError> in
            var buffer = [UInt8](repeating: 0, count: size)
            while true {
                if thread.isCancelled { return .failure(SystemCallError(systemCall: "read", errno: ECANCELED)) }
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, size) }
                if count > 0 {
                    buffer.removeSubrange(count...)
                    return .success(buffer)
                }
                if count == 0 { continue }  // a zero-length packet: no bytes, keep reading
                if errno == EINTR { continue }
                return .failure(.current("read"))
            }
        }
        switch outcome {
        case .success(let bytes)?:
            return state.withLock { $0.leftover.split(bytes, maximumCount: maximumCount) }
        case .failure(let error)?:
            throw failure(error, "receive")
        case nil:
            throw TransportError(.closed, "\(peerDescription) is closed")
        }
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        try checkUsable()
        if bytes.isEmpty { return }
        let descriptor = inDescriptor
        let thread = writer
        let needsZeroLengthPacket = bytes.count % packetSize == 0
        let outcome = try? await writer.run { () -> Result<Void, SystemCallError> in
            var offset = 0
            var zeroLengthPacketSent = !needsZeroLengthPacket
            while offset < bytes.count || !zeroLengthPacketSent {
                if thread.isCancelled { return .failure(SystemCallError(systemCall: "write", errno: ECANCELED)) }
                let count = min(FunctionFSTransport.chunkSize, bytes.count - offset)
                let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    return .failure(.current("write"))
                }
                if count == 0 { zeroLengthPacketSent = true }
                offset += written
            }
            return .success(())
        }
        switch outcome {
        case .success?: return
        case .failure(let error)?: throw failure(error, "send")
        case nil: throw TransportError(.closed, "\(peerDescription) is closed")
        }
    }

    private func failure(_ error: SystemCallError, _ operation: String) -> TransportError {
        let (closed, ended) = state.withLock { state in
            if error.meansDisconnected || error.errno == ECANCELED { state.ended = true }
            return (state.closed, state.ended)
        }
        if closed { return TransportError(.closed, "\(peerDescription) is closed") }
        if ended {
            return TransportError(.disconnected, "\(operation) on \(peerDescription): the host went away", cause: error)
        }
        return TransportError.from(error, context: "\(operation) on \(peerDescription)")
    }

    private func roundedUp(_ count: Int) -> Int { (count + packetSize - 1) / packetSize * packetSize }

    /// The session is over (DISABLE, UNBIND, a new ENABLE, or the listener closing): in-flight and
    /// later I/O fail with `.disconnected`. Returns once no endpoint call of this session is in flight.
    func end() {
        state.withLock { $0.ended = true }
        reader.cancel()
        writer.cancel()
    }

    public func close() {
        let first = state.withLock { state -> Bool in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        reader.shutdown()
        writer.shutdown()
    }
}
