import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A connected Unix-domain stream socket. Blocking reads and writes run on two dedicated
/// threads (one per direction), never on the cooperative pool; a send that the socket buffer
/// takes at once is written directly (non-blocking) by the caller.
public final class UnixSocketTransport: CartridgeTransport {
    private let descriptor: OwnedDescriptor
    private let receiver: DedicatedThread
    private let sender: DedicatedThread
    private let closed = Atomic<Bool>(false)
    /// Sends handed to `sender` and not finished yet; the fast path in `send` runs only at zero.
    private let sendOrder = SendOrder()
    public let peerDescription: String

    /// Takes ownership of a connected socket descriptor.
    public convenience init(adopting descriptor: Int32, peerDescription: String) {
        self.init(owning: OwnedDescriptor(adopting: descriptor), peerDescription: peerDescription)
    }

    /// Takes a connected socket.
    public init(owning descriptor: OwnedDescriptor, peerDescription: String) {
        self.descriptor = descriptor
        self.peerDescription = peerDescription
        receiver = DedicatedThread(name: "sock-rx-\(descriptor.rawValue)")
        sender = DedicatedThread(name: "sock-tx-\(descriptor.rawValue)")
    }

    deinit {
        close()
    }

    /// Connects to a cartridge listening at `path`.
    public static func connect(path: String) async throws(TransportError) -> UnixSocketTransport {
        let address = try UnixSocketAddress(path: path)
        let descriptor = try UnixSocketAddress.makeSocket(context: "unix:\(path)")
        // connect(2) is not retried after EINTR (the connection goes on in the background);
        // the descriptor closes itself on this error path.
        guard address.withSockaddr({ Glibc.connect(descriptor.rawValue, $0, $1) }) == 0 else {
            throw TransportError.from(
                .current("connect"), context: "cannot connect to unix:\(path)", meansDisconnected: TransportError.socketDisconnect)
        }
        return UnixSocketTransport(owning: descriptor, peerDescription: "unix:\(path)")
    }

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        precondition(maximumCount > 0)
        if closed.load(ordering: .acquiring) { throw TransportError(.closed, "\(peerDescription) is closed") }
        let descriptor = self.descriptor.rawValue
        let outcome: Result<[UInt8], SystemCallError>
        do {
            outcome = try await receiver.run {
                // Read into uninitialized capacity: zero-filling `maximumCount` bytes (256 KiB
                // for the client's reader) cost more than the read of a small frame.
                var failure: SystemCallError?
                let buffer = [UInt8](unsafeUninitializedCapacity: maximumCount) { raw, initialized in
                    initialized = 0
                    do throws(SystemCallError) {
                        initialized = try SystemCall.retryingInterrupts("read") { read(descriptor, raw.baseAddress, maximumCount) }
                    } catch {
                        failure = error
                    }
                }
                if let failure { return .failure(failure) }
                return .success(buffer)
            }
        } catch {
            throw TransportError(.closed, "\(peerDescription) is closed")
        }
        switch outcome {
        case .success(let bytes):
            if bytes.isEmpty && closed.load(ordering: .acquiring) {
                throw TransportError(.closed, "\(peerDescription) is closed")
            }
            return bytes
        case .failure(let error):
            if closed.load(ordering: .acquiring) { throw TransportError(.closed, "\(peerDescription) is closed") }
            throw TransportError.from(error, context: "receive from \(peerDescription)", meansDisconnected: TransportError.socketDisconnect)
        }
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        if closed.load(ordering: .acquiring) { throw TransportError(.closed, "\(peerDescription) is closed") }
        if bytes.isEmpty { return }
        let descriptor = self.descriptor.rawValue
        let sender = self.sender
        let sendOrder = self.sendOrder
        // Fast path: when no earlier send is queued or in flight, write what the socket buffer takes
        // right now without blocking (MSG_DONTWAIT) on the caller's thread: a small frame then costs
        // no hand-off to the sender thread (a wake-up of tens of µs on an idle VM). Whatever is left
        // is queued on the sender thread while `sendOrder` is held, so bytes keep the calls' order.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<SendOutcome, Never>) in
            let queued = sendOrder.withLock { pendingSends -> Bool in
                // `close()` closes the descriptor under this lock after setting `closed`: checked
                // here, the descriptor cannot be closed (and its number reused) during the write.
                if closed.load(ordering: .acquiring) {
                    continuation.resume(returning: .stopped)
                    return true
                }
                var offset = 0
                if pendingSends == 0 {
                    // Any failure here (EAGAIN: the buffer is full) leaves the rest to the sender thread.
                    while offset < bytes.count, let count = try? SystemCall.retryingInterrupts("send", {
                        bytes.withUnsafeBytes {
                            Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                        }
                    }), count > 0 {
                        offset += count
                    }
                    if offset == bytes.count { return false }
                }
                let start = offset
                let accepted = sender.submit {
                    var offset = start
                    var result = SendOutcome.sent
                    while offset < bytes.count {
                        do throws(SystemCallError) {
                            offset += try SystemCall.retryingInterrupts("send") {
                                bytes.withUnsafeBytes {
                                    Glibc.send(descriptor, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                                }
                            }
                        } catch {
                            result = .failed(error)
                            break
                        }
                    }
                    sendOrder.withLock { $0 -= 1 }
                    continuation.resume(returning: result)
                }
                if !accepted {
                    continuation.resume(returning: .stopped)
                    return true
                }
                pendingSends += 1
                return true
            }
            if !queued { continuation.resume(returning: .sent) }
        }
        switch outcome {
        case .sent: return
        case .stopped: throw TransportError(.closed, "\(peerDescription) is closed")
        case .failed(let error):
            if closed.load(ordering: .acquiring) { throw TransportError(.closed, "\(peerDescription) is closed") }
            throw TransportError.from(error, context: "send to \(peerDescription)", meansDisconnected: TransportError.socketDisconnect)
        }
    }

    private enum SendOutcome: Sendable {
        case sent
        case failed(SystemCallError)
        /// The sender thread was shut down (the transport is closing).
        case stopped
    }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Unblock a read or write in progress, let both threads finish, then release the descriptor
        // (closing first could let the number be reused while a thread still uses it).
        shutdown(descriptor.rawValue, Int32(SHUT_RDWR))
        receiver.shutdown()
        sender.shutdown()
        // Under the send lock: a direct write in `send` is either finished or will see `closed`.
        // A failing close(2) of a socket loses nothing this side still needs.
        let descriptor = self.descriptor
        sendOrder.withLock { _ in try? descriptor.close() }
    }
}
