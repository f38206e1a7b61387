/// A reliable, ordered, bidirectional byte pipe between a host and a cartridge.
///
/// This is the seam between the protocol layers and the wire: Unix-domain sockets, USB
/// (FunctionFS on the device, libusb on the host) and in-memory pairs all implement it, and
/// nothing above it knows which one it talks to.
///
/// Byte boundaries carry no meaning: a `receive` may return part of a frame, several frames, or
/// a frame split anywhere. USB implementations queue what `send` is given and coalesce what is
/// queued into transfers (`BulkOutQueue`), ending with a zero-length packet a transfer that empties
/// the queue on a multiple of wMaxPacketSize; their receivers never assume that one transfer is
/// one frame.
///
/// Concurrency: one task may receive while another sends. Two concurrent `send`s or two
/// concurrent `receive`s are not allowed (callers serialize them).
public protocol CartridgeTransport: AnyObject, Sendable {
    /// Waits for the next bytes, at most `maximumCount` (> 0). Returns an empty array at end of
    /// stream, when the peer closed the connection in an orderly way. Throws `.disconnected`
    /// when the link broke (unplug), `.closed` after `close()`.
    func receive(maximumCount: Int) async throws(TransportError) -> [UInt8]

    /// Sends all of `bytes`, in order. Suspends while the peer is not reading and the OS buffer
    /// is full (this is the back-pressure that pauses a stream when a host stops reading). May
    /// return once the bytes are buffered (socket buffer, USB send queue): a failure to deliver
    /// them is then reported by a later `send` or `receive`.
    func send(_ bytes: [UInt8]) async throws(TransportError)

    /// Closes both directions. Pending and later `receive`/`send` calls fail with `.closed`.
    /// Idempotent; never blocks for long.
    func close()

    /// A human-readable description of the peer ("unix:/run/cartridge.sock#3", "usb:1-2").
    var peerDescription: String { get }

    /// The executor a task that loops on `receive` should prefer (`withTaskExecutorPreference`),
    /// if the transport has one: the thread that sees the completions, so that the waiting task
    /// resumes there without waking another thread (libusb's event thread). Such a task must not
    /// block, and must not call `close()` while it prefers the executor. Default: none.
    var preferredTaskExecutor: (any TaskExecutor)? { get }
}

extension CartridgeTransport {
    public var preferredTaskExecutor: (any TaskExecutor)? { nil }
}

/// The device side's source of host connections: a listening socket, or a USB gadget that
/// yields one connection each time a host enables the function (plug) and ends it on unplug.
public protocol CartridgeListener: AnyObject, Sendable {
    /// Waits for the next host connection. Returns `nil` once the listener has been closed.
    func accept() async throws(TransportError) -> (any CartridgeTransport)?

    /// Stops accepting; a pending `accept` returns `nil`. Idempotent.
    func close()

    /// Where this listener is reachable ("unix:/run/cartridge.sock", "usb:dummy_udc.0").
    var endpointDescription: String { get }
}
