import CLibUSB
public import CartridgeTransport
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A claimed cartridge interface: bulk OUT for `send`, bulk IN for `receive`, as asynchronous
/// libusb transfers completed on the context's event thread (no thread blocks per transfer).
///
/// Both directions are pipelined:
/// - IN: transfers of whole packets (so no LIBUSB_ERROR_OVERFLOW) are submitted while a
///   `receive` waits (one, of what it asked for rounded up to whole packets, at most `readSize`:
///   a 64 KiB frame then completes on its last packet, as a C client's does, instead of waiting
///   for the zero-length packet behind it), and of `readSize` bytes while the device
///   streams (`readDepth`: a transfer that came back full is resubmitted at once, with the others
///   kept posted, so a long write always finds a posted buffer); the completion callback keeps the
///   bytes (up to `readAheadLimit`) and resumes the waiting `receive` itself. `receive` hands out
///   held bytes, several transfers' worth if asked. Between messages nothing stays posted: a
///   posted IN transfer makes a host controller poll the device (dummy_hcd, the VM's, runs its
///   transfer timer every 125 µs while any transfer is pending), and the device's bytes wait for
///   the next `receive` in its own queue.
/// - OUT: `send` queues the bytes in a `BulkOutQueue` and returns while less than `sendHighWater`
///   bytes wait; up to `writeDepth` transfers are in flight, each coalescing everything queued
///   (frames of several senders leave together) and flagged LIBUSB_TRANSFER_ADD_ZERO_PACKET when it
///   empties the queue on a packet boundary. A failed transfer fails the next `send`/`receive`.
///
/// `close()` gives queued bytes a moment to leave, cancels what is in flight and waits for libusb
/// to hand every transfer back before releasing the interface and closing the handle.
public final class LibUSBTransport: CartridgeTransport, @unchecked Sendable {
    // @unchecked: `handle` is immutable and libusb device handles may be used from any thread;
    // all mutable state is in `core.state` (a Mutex).

    /// The largest single OUT transfer.
    public static let maximumTransferSize = 1024 * 1024
    /// IN transfers submitted while the device streams (one while a `receive` waits), and their size.
    public static let readDepth = 4
    public static let readSize = 128 * 1024
    /// Read ahead pauses while this many received bytes wait for `receive`.
    public static let readAheadLimit = 2 * 1024 * 1024
    /// OUT transfers in flight at once.
    public static let writeDepth = 2
    /// `send` suspends while this many bytes wait to be sent.
    public static let sendHighWater = 1024 * 1024

    private let instance: LibUSBInstance
    private let core: LibUSBTransferCore
    public let device: CartridgeDeviceInfo
    public var peerDescription: String { core.peerDescription }
    /// wMaxPacketSize of the bulk IN endpoint (512 at high speed).
    public var packetSize: Int { core.endpoints.inPacketSize }
    /// libusb's event thread: completions resume a task that prefers it on that very thread.
    public var preferredTaskExecutor: (any TaskExecutor)? { instance.events }

    init(instance: LibUSBInstance, handle: OpaquePointer, endpoints: CartridgeEndpoints, device: CartridgeDeviceInfo) {
        self.instance = instance
        self.device = device
        core = LibUSBTransferCore(handle: handle, endpoints: endpoints, peerDescription: "usb:\(device.serialNumber ?? device.location)")
    }

    deinit { close() }

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        precondition(maximumCount > 0)
        while true {
            enum Step { case bytes([UInt8]), failed(TransportError), wait }
            let step: Step = core.state.withLock { state in
                if state.closed { return .failed(TransportError(.closed, "\(core.peerDescription) is closed")) }
                if let bytes = state.received.take(upTo: maximumCount) {
                    core.submitReads(&state)  // room again below the read-ahead limit
                    return .bytes(bytes)
                }
                if let failure = state.receiveFailure { return .failed(failure) }
                if let failure = state.sendFailure, failure.code == .disconnected { return .failed(failure) }
                return .wait
            }
            switch step {
            case .bytes(let bytes): return bytes
            case .failed(let error):
                core.clearHaltIfStalled()
                throw error
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = core.state.withLock { state -> Bool in
                        if !state.received.isEmpty || state.receiveFailure != nil || state.closed
                            || state.sendFailure?.code == .disconnected
                        {
                            return true
                        }
                        state.receiver = continuation
                        state.receiverWants = maximumCount
                        core.submitReads(&state)  // at least one IN transfer while someone waits
                        if state.receiveFailure != nil {
                            state.receiver = nil
                            return true
                        }
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        while true {
            enum Step { case queued, failed(TransportError), wait }
            let step: Step = core.state.withLock { state in
                if state.closed || state.closing { return .failed(TransportError(.closed, "\(core.peerDescription) is closed")) }
                if let failure = state.sendFailure { return .failed(failure) }
                if let failure = state.receiveFailure, failure.code == .disconnected { return .failed(failure) }
                if bytes.isEmpty { return .queued }
                guard state.outbound.count < Self.sendHighWater else { return .wait }
                state.outbound.append(bytes)
                core.submitWrites(&state)
                return .queued
            }
            switch step {
            case .queued: return
            case .failed(let error):
                core.clearHaltIfStalled()
                throw error
            case .wait:
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = core.state.withLock { state -> Bool in
                        if state.outbound.count < Self.sendHighWater || state.sendFailure != nil || state.closed { return true }
                        state.senders.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }

    public func close() {
        guard core.markClosing() else { return }
        // Bytes still queued (a last request) get a moment to leave.
        for _ in 0..<250 {
            let busy = core.state.withLock { state in
                (state.writesInFlight > 0 || !state.outbound.isEmpty) && state.sendFailure == nil
            }
            if !busy { break }
            usleep(2_000)
        }
        core.cancelAll()
        // Reap: wait until libusb handed every cancelled transfer back (closing a handle with
        // transfers in flight crashes libusb). Bounded, in case the event thread is gone.
        var reaped = false
        for _ in 0..<2_000 {
            if core.state.withLock({ $0.inFlight.isEmpty }) { reaped = true; break }
            usleep(1_000)
        }
        if reaped { core.freeReadSlots() }  // else leak them rather than free memory libusb may still write
        libusb_release_interface(core.handle, Int32(core.endpoints.interfaceNumber))
        libusb_close(core.handle)
    }

    static func transferStatusName(_ status: Int32) -> String {
        switch status {
        case Int32(LIBUSB_TRANSFER_COMPLETED.rawValue): "LIBUSB_TRANSFER_COMPLETED"
        case Int32(LIBUSB_TRANSFER_ERROR.rawValue): "LIBUSB_TRANSFER_ERROR"
        case Int32(LIBUSB_TRANSFER_TIMED_OUT.rawValue): "LIBUSB_TRANSFER_TIMED_OUT"
        case Int32(LIBUSB_TRANSFER_CANCELLED.rawValue): "LIBUSB_TRANSFER_CANCELLED"
        case Int32(LIBUSB_TRANSFER_STALL.rawValue): "LIBUSB_TRANSFER_STALL"
        case Int32(LIBUSB_TRANSFER_NO_DEVICE.rawValue): "LIBUSB_TRANSFER_NO_DEVICE"
        case Int32(LIBUSB_TRANSFER_OVERFLOW.rawValue): "LIBUSB_TRANSFER_OVERFLOW"
        default: "LIBUSB_TRANSFER_\(status)"
        }
    }
}

/// The transfers of one `LibUSBTransport` and the state they share with its callers. Completion
/// callbacks run on the context's event thread; they reach this object through a retained
/// reference in each transfer's user_data.
final class LibUSBTransferCore: @unchecked Sendable {
    // @unchecked: `handle`, the read slots' transfer and buffer pointers are fixed after init (the
    // memory they point to is handed to libusb only under `state`'s lock); the rest is in `state`.
    struct State {
        var closing = false
        var closed = false
        /// Every submitted transfer (to cancel on close).
        var inFlight: Set<Int> = []
        var received = ReceivedBytes()
        var receiveFailure: TransportError?
        var receiver: CheckedContinuation<Void, Never>?
        /// Read slots submitted, oldest first; completions not yet delivered (a newer one finished first).
        var readOrder: [Int] = []
        var readsDone: [Int: (status: Int32, actual: Int)] = [:]
        var idleReads: [Int]
        /// The last IN transfer came back full: the device is in the middle of a long write.
        var streaming = false
        /// The waiting receiver's `maximumCount`: a lone IN transfer (not streaming) asks for no
        /// more than that, rounded up to whole packets.
        var receiverWants = LibUSBTransport.readSize
        var outbound: BulkOutQueue
        var writesInFlight = 0
        var sendFailure: TransportError?
        var senders: [CheckedContinuation<Void, Never>] = []
        /// Endpoints that stalled, to clear (a blocking call) outside the event thread.
        var stalledEndpoints: Set<UInt8> = []
    }

    let handle: OpaquePointer
    let endpoints: CartridgeEndpoints
    let peerDescription: String
    let state: Mutex<State>
    private let readTransfers: [UnsafeMutablePointer<libusb_transfer>]
    private let readBuffers: [UnsafeMutableRawPointer]

    init(handle: OpaquePointer, endpoints: CartridgeEndpoints, peerDescription: String) {
        self.handle = handle
        self.endpoints = endpoints
        self.peerDescription = peerDescription
        let depth = LibUSBTransport.readDepth
        readTransfers = (0..<depth).map { _ in libusb_alloc_transfer(0)! }
        readBuffers = (0..<depth).map { _ in UnsafeMutableRawPointer.allocate(byteCount: LibUSBTransport.readSize, alignment: 4096) }
        state = Mutex(State(
            idleReads: Array((0..<depth).reversed()),
            outbound: BulkOutQueue(packetSize: endpoints.outPacketSize, maximumTransfer: LibUSBTransport.maximumTransferSize)))
    }

    /// Submits idle read slots (lock held): `readDepth` while the device streams, one while a
    /// `receive` waits, none otherwise; never more than the held bytes leave room for.
    func submitReads(_ state: inout State) {
        guard !state.closed, state.receiveFailure == nil else { return }
        let packet = max(endpoints.inPacketSize, 8)
        let size = state.streaming
            ? LibUSBTransport.readSize
            : min(LibUSBTransport.readSize, (max(state.receiverWants, 1) + packet - 1) / packet * packet)
        let wanted = state.streaming ? LibUSBTransport.readDepth : (state.receiver != nil ? 1 : 0)
        while state.readOrder.count < wanted,
            state.received.count + (state.readOrder.count + 1) * size <= LibUSBTransport.readAheadLimit,
            let slot = state.idleReads.popLast()
        {
            let transfer = readTransfers[slot]
            let userData = Unmanaged.passRetained(self).toOpaque()
            libusb_fill_bulk_transfer(
                transfer, handle, endpoints.inAddress, readBuffers[slot].assumingMemoryBound(to: UInt8.self), Int32(size),
                readTransferCompleted, userData, 0)
            let status = libusb_submit_transfer(transfer)
            guard status == 0 else {
                Unmanaged<LibUSBTransferCore>.fromOpaque(userData).release()
                state.idleReads.append(slot)
                state.receiveFailure = submitFailure(status, &state)
                return
            }
            state.inFlight.insert(Int(bitPattern: transfer))
            state.readOrder.append(slot)
        }
    }

    /// A read slot's transfer came back (event thread).
    func readCompleted(_ transfer: UnsafeMutablePointer<libusb_transfer>) {
        let status = Int32(transfer.pointee.status.rawValue)
        let actual = Int(transfer.pointee.actual_length)
        let receiver = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inFlight.remove(Int(bitPattern: transfer))
            guard let slot = readTransfers.firstIndex(of: transfer) else { return nil }
            state.readsDone[slot] = (status, actual)
            while let oldest = state.readOrder.first, let done = state.readsDone.removeValue(forKey: oldest) {
                state.readOrder.removeFirst()
                state.idleReads.append(oldest)
                if done.status == Int32(LIBUSB_TRANSFER_COMPLETED.rawValue) {
                    // Full: the device's write goes on (keep reading ahead); short: it ended.
                    state.streaming = done.actual == LibUSBTransport.readSize
                    if done.actual > 0 {  // 0: a zero-length packet ended an empty transfer
                        state.received.append([UInt8](UnsafeRawBufferPointer(start: readBuffers[oldest], count: done.actual)))
                    }
                } else if !state.closed && state.receiveFailure == nil {
                    state.receiveFailure = transferFailure(done.status, "receive", endpoints.inAddress, &state)
                }
            }
            let receiver = state.received.isEmpty && state.receiveFailure == nil ? nil : state.receiver
            if receiver != nil { state.receiver = nil }
            submitReads(&state)  // streaming: read on; a receiver still waiting (a ZLP came): one
            return receiver
        }
        receiver?.resume()
    }

    /// Submits queued bytes while fewer than `writeDepth` transfers are in flight (lock held).
    func submitWrites(_ state: inout State) {
        while !state.closed, state.sendFailure == nil, state.writesInFlight < LibUSBTransport.writeDepth,
            let next = state.outbound.nextTransfer()
        {
            let count = next.bytes.count
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
            next.bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: count) }
            guard let transfer = libusb_alloc_transfer(0) else {
                buffer.deallocate()
                state.sendFailure = TransportError(.io, "send to \(peerDescription): out of memory for a transfer")
                return
            }
            let userData = Unmanaged.passRetained(WriteContext(core: self, buffer: buffer, length: count)).toOpaque()
            libusb_fill_bulk_transfer(
                transfer, handle, endpoints.outAddress, buffer.assumingMemoryBound(to: UInt8.self), Int32(count),
                writeTransferCompleted, userData, 0)
            if next.needsZeroLengthPacket { transfer.pointee.flags |= UInt8(LIBUSB_TRANSFER_ADD_ZERO_PACKET.rawValue) }
            let status = libusb_submit_transfer(transfer)
            guard status == 0 else {
                Unmanaged<WriteContext>.fromOpaque(userData).release()
                buffer.deallocate()
                libusb_free_transfer(transfer)
                state.sendFailure = submitFailure(status, &state)
                state.outbound.removeAll()
                return
            }
            state.inFlight.insert(Int(bitPattern: transfer))
            state.writesInFlight += 1
        }
    }

    /// A write transfer came back (event thread).
    func writeCompleted(_ transfer: UnsafeMutablePointer<libusb_transfer>, context: WriteContext) {
        let status = Int32(transfer.pointee.status.rawValue)
        let actual = Int(transfer.pointee.actual_length)
        let (senders, receiver) = state.withLock { state -> ([CheckedContinuation<Void, Never>], CheckedContinuation<Void, Never>?) in
            state.inFlight.remove(Int(bitPattern: transfer))
            state.writesInFlight -= 1
            if !state.closed && state.sendFailure == nil {
                if status != Int32(LIBUSB_TRANSFER_COMPLETED.rawValue) {
                    state.sendFailure = transferFailure(status, "send", endpoints.outAddress, &state)
                } else if actual != context.length {
                    state.sendFailure = TransportError(.io, "send to \(peerDescription): short write (\(actual) of \(context.length) bytes)")
                }
                if state.sendFailure != nil { state.outbound.removeAll() }
            }
            submitWrites(&state)
            var senders: [CheckedContinuation<Void, Never>] = []
            if state.outbound.count < LibUSBTransport.sendHighWater || state.sendFailure != nil {
                senders = state.senders
                state.senders = []
            }
            // A disconnect seen by a send also ends a waiting receive.
            var receiver: CheckedContinuation<Void, Never>?
            if state.sendFailure?.code == .disconnected {
                receiver = state.receiver
                state.receiver = nil
            }
            return (senders, receiver)
        }
        context.buffer.deallocate()
        for sender in senders { sender.resume() }
        receiver?.resume()
    }

    private func transferFailure(_ status: Int32, _ operation: String, _ endpoint: UInt8, _ state: inout State) -> TransportError {
        let name = LibUSBTransport.transferStatusName(status)
        let cause = USBHostError(.io, "\(operation) transfer ended with \(name)", libusbCode: status, libusbName: name)
        switch status {
        case Int32(LIBUSB_TRANSFER_NO_DEVICE.rawValue), Int32(LIBUSB_TRANSFER_ERROR.rawValue):
            return TransportError(.disconnected, "\(operation) on \(peerDescription): the cartridge went away (\(name))", cause: cause)
        case Int32(LIBUSB_TRANSFER_STALL.rawValue):
            state.stalledEndpoints.insert(endpoint)
            return TransportError(.io, "\(operation) on \(peerDescription): the cartridge stalled the endpoint", cause: cause)
        case Int32(LIBUSB_TRANSFER_TIMED_OUT.rawValue):
            return TransportError(.timedOut, "\(operation) on \(peerDescription) timed out", cause: cause)
        case Int32(LIBUSB_TRANSFER_CANCELLED.rawValue):
            return TransportError(.closed, "\(peerDescription) is closed", cause: cause)
        default:
            return TransportError(.io, "\(operation) on \(peerDescription) failed (\(name))", cause: cause)
        }
    }

    private func submitFailure(_ status: Int32, _ state: inout State) -> TransportError {
        if status == LIBUSB_ERROR_NO_DEVICE.rawValue {
            return TransportError(.disconnected, "\(peerDescription) was unplugged", cause: USBHostError.libusb(status, "submit"))
        }
        return USBHostError.libusb(status, "cannot submit a transfer to \(peerDescription)").transportError
    }

    /// Clears a halt an endpoint reported (blocking: never on the event thread).
    func clearHaltIfStalled() {
        let stalled = state.withLock { state in
            defer { state.stalledEndpoints = [] }
            return state.stalledEndpoints
        }
        for endpoint in stalled { _ = libusb_clear_halt(handle, endpoint) }
    }

    /// True the first time.
    func markClosing() -> Bool {
        state.withLock { state in
            defer { state.closing = true }
            return !state.closing
        }
    }

    /// Marks the transport closed, cancels every transfer in flight and wakes every waiter.
    func cancelAll() {
        let (receiver, senders) = state.withLock { state in
            state.closed = true
            state.outbound.removeAll()
            for key in state.inFlight {
                _ = libusb_cancel_transfer(UnsafeMutablePointer<libusb_transfer>(bitPattern: key))
            }
            defer { state.receiver = nil; state.senders = [] }
            return (state.receiver, state.senders)
        }
        receiver?.resume()
        for sender in senders { sender.resume() }
    }

    /// Frees the read slots (after every transfer was reaped).
    func freeReadSlots() {
        for transfer in readTransfers { libusb_free_transfer(transfer) }
        for buffer in readBuffers { buffer.deallocate() }
    }
}

/// A write transfer's buffer and the transport it belongs to; retained through user_data.
final class WriteContext: @unchecked Sendable {
    // @unchecked: immutable; the buffer is only touched by libusb until the completion, then freed once.
    let core: LibUSBTransferCore
    let buffer: UnsafeMutableRawPointer
    let length: Int
    init(core: LibUSBTransferCore, buffer: UnsafeMutableRawPointer, length: Int) {
        self.core = core
        self.buffer = buffer
        self.length = length
    }
}

/// libusb's completion callback for read slots (event thread).
private func readTransferCompleted(_ transfer: UnsafeMutablePointer<libusb_transfer>?) {
    guard let transfer else { return }
    let core = Unmanaged<LibUSBTransferCore>.fromOpaque(transfer.pointee.user_data).takeRetainedValue()
    core.readCompleted(transfer)
}

/// libusb's completion callback for writes (event thread): report, then free the transfer.
private func writeTransferCompleted(_ transfer: UnsafeMutablePointer<libusb_transfer>?) {
    guard let transfer else { return }
    let context = Unmanaged<WriteContext>.fromOpaque(transfer.pointee.user_data).takeRetainedValue()
    context.core.writeCompleted(transfer, context: context)
    libusb_free_transfer(transfer)
}
