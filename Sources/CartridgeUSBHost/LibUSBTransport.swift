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
/// Sends whose length is a multiple of wMaxPacketSize end with a zero-length packet; reads are
/// sized as multiples of wMaxPacketSize (a smaller buffer risks LIBUSB_ERROR_OVERFLOW) and bytes
/// beyond `maximumCount` are kept for the next `receive`. `close()` cancels in-flight transfers and
/// waits for libusb to hand them back before releasing the interface and closing the handle.
public final class LibUSBTransport: CartridgeTransport, @unchecked Sendable {
    // @unchecked: `handle` is immutable and libusb device handles may be used from any thread;
    // all mutable state is in `state` (a Mutex).
    private struct State {
        var closed = false
        var disconnected = false
        var inFlight: Set<Int> = []
        var leftover = ReceiveLeftover()
    }

    /// The largest single transfer submitted.
    public static let maximumTransferSize = 1024 * 1024
    private static let receiveSize = 64 * 1024

    private let instance: LibUSBInstance
    private let handle: OpaquePointer
    private let endpoints: CartridgeEndpoints
    private let state = Mutex(State())
    public let device: CartridgeDeviceInfo
    public var peerDescription: String { "usb:\(device.serialNumber ?? device.location)" }
    /// wMaxPacketSize of the bulk IN endpoint (512 at high speed).
    public var packetSize: Int { endpoints.inPacketSize }

    init(instance: LibUSBInstance, handle: OpaquePointer, endpoints: CartridgeEndpoints, device: CartridgeDeviceInfo) {
        self.instance = instance
        self.handle = handle
        self.endpoints = endpoints
        self.device = device
    }

    deinit { close() }

    private func checkUsable() throws(TransportError) {
        let (closed, disconnected) = state.withLock { ($0.closed, $0.disconnected) }
        if closed { throw TransportError(.closed, "\(peerDescription) is closed") }
        if disconnected { throw TransportError(.disconnected, "\(peerDescription) was unplugged") }
    }

    public func receive(maximumCount: Int) async throws(TransportError) -> [UInt8] {
        precondition(maximumCount > 0)
        try checkUsable()
        if let buffered = state.withLock({ $0.leftover.take(upTo: maximumCount) }) { return buffered }
        let packet = max(endpoints.inPacketSize, 8)
        let size = max(LibUSBTransport.receiveSize, (maximumCount + packet - 1) / packet * packet)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let (status, actual) = try await transfer(endpoint: endpoints.inAddress, buffer: buffer, length: size, zeroPacket: false)
            try check(status, "receive")
            if actual == 0 { continue }  // a zero-length packet ends an empty transfer: no bytes
            let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: actual))
            return state.withLock { $0.leftover.split(bytes, maximumCount: maximumCount) }
        }
    }

    public func send(_ bytes: [UInt8]) async throws(TransportError) {
        try checkUsable()
        if bytes.isEmpty { return }
        let packet = max(endpoints.outPacketSize, 8)
        var offset = 0
        while offset < bytes.count {
            let count = min(LibUSBTransport.maximumTransferSize, bytes.count - offset)
            let last = offset + count == bytes.count
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
            defer { buffer.deallocate() }
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            let (status, actual) = try await transfer(
                endpoint: endpoints.outAddress, buffer: buffer, length: count, zeroPacket: last && bytes.count % packet == 0)
            try check(status, "send")
            guard actual == count else {
                throw TransportError(.io, "send to \(peerDescription): short write (\(actual) of \(count) bytes)")
            }
            offset += count
        }
    }

    private func check(_ status: Int32, _ operation: String) throws(TransportError) {
        if status == Int32(LIBUSB_TRANSFER_COMPLETED.rawValue) { return }
        let name = LibUSBTransport.transferStatusName(status)
        let closed = state.withLock { state -> Bool in
            if status == Int32(LIBUSB_TRANSFER_NO_DEVICE.rawValue) || status == Int32(LIBUSB_TRANSFER_ERROR.rawValue) {
                state.disconnected = true
            }
            return state.closed
        }
        if closed { throw TransportError(.closed, "\(peerDescription) is closed") }
        let cause = USBHostError(.io, "\(operation) transfer ended with \(name)", libusbCode: status, libusbName: name)
        switch status {
        case Int32(LIBUSB_TRANSFER_NO_DEVICE.rawValue), Int32(LIBUSB_TRANSFER_ERROR.rawValue):
            throw TransportError(.disconnected, "\(operation) on \(peerDescription): the cartridge went away (\(name))", cause: cause)
        case Int32(LIBUSB_TRANSFER_STALL.rawValue):
            _ = libusb_clear_halt(handle, operation == "send" ? endpoints.outAddress : endpoints.inAddress)
            throw TransportError(.io, "\(operation) on \(peerDescription): the cartridge stalled the endpoint", cause: cause)
        case Int32(LIBUSB_TRANSFER_TIMED_OUT.rawValue):
            throw TransportError(.timedOut, "\(operation) on \(peerDescription) timed out", cause: cause)
        default:
            throw TransportError(.io, "\(operation) on \(peerDescription) failed (\(name))", cause: cause)
        }
    }

    /// Submits one bulk transfer and waits for its completion. Returns the libusb transfer status
    /// and the byte count. Submission failures are thrown.
    private func transfer(
        endpoint: UInt8, buffer: UnsafeMutableRawPointer, length: Int, zeroPacket: Bool
    ) async throws(TransportError) -> (Int32, Int) {
        let bufferAddress = Int(bitPattern: buffer)
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, Int, Int32), Never>) in
            guard let transfer = libusb_alloc_transfer(0) else {
                continuation.resume(returning: (0, 0, LIBUSB_ERROR_NO_MEM.rawValue))
                return
            }
            let key = Int(bitPattern: transfer)
            let completion = TransferCompletion { status, actual in
                self.state.withLock { _ = $0.inFlight.remove(key) }
                continuation.resume(returning: (status, actual, 0))
            }
            let userData = Unmanaged.passRetained(completion).toOpaque()
            libusb_fill_bulk_transfer(
                transfer, handle, endpoint, UnsafeMutablePointer<UInt8>(bitPattern: bufferAddress), Int32(length),
                transferCompleted, userData, 0)
            if zeroPacket { transfer.pointee.flags |= UInt8(LIBUSB_TRANSFER_ADD_ZERO_PACKET.rawValue) }
            // Submit under the lock so that `close()` sees every submitted transfer (and cancels it).
            let submitted = state.withLock { state -> Int32 in
                if state.closed { return LIBUSB_ERROR_INTERRUPTED.rawValue }
                let status = libusb_submit_transfer(transfer)
                if status == 0 { state.inFlight.insert(key) }
                return status
            }
            if submitted != 0 {
                Unmanaged<TransferCompletion>.fromOpaque(userData).release()
                libusb_free_transfer(transfer)
                continuation.resume(returning: (0, 0, submitted))
            }
        }
        let (status, actual, submitError) = outcome
        if submitError != 0 {
            if submitError == LIBUSB_ERROR_INTERRUPTED.rawValue { throw TransportError(.closed, "\(peerDescription) is closed") }
            if submitError == LIBUSB_ERROR_NO_DEVICE.rawValue {
                state.withLock { $0.disconnected = true }
                throw TransportError(.disconnected, "\(peerDescription) was unplugged", cause: USBHostError.libusb(submitError, "submit"))
            }
            throw USBHostError.libusb(submitError, "cannot submit a transfer to \(peerDescription)").transportError
        }
        return (status, actual)
    }

    public func close() {
        let inFlight = state.withLock { state -> Bool in
            if state.closed { return false }
            state.closed = true
            for key in state.inFlight {
                _ = libusb_cancel_transfer(UnsafeMutablePointer<libusb_transfer>(bitPattern: key))
            }
            return true
        }
        guard inFlight else { return }
        // Reap: wait until libusb handed every cancelled transfer back (closing a handle with
        // transfers in flight crashes libusb). Bounded, in case the event thread is gone.
        for _ in 0..<2_000 {
            if state.withLock({ $0.inFlight.isEmpty }) { break }
            usleep(1_000)
        }
        libusb_release_interface(handle, Int32(endpoints.interfaceNumber))
        libusb_close(handle)
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

/// What to do when a transfer completes; retained through the transfer's user_data.
final class TransferCompletion: Sendable {
    let complete: @Sendable (Int32, Int) -> Void
    init(_ complete: @escaping @Sendable (Int32, Int) -> Void) { self.complete = complete }
}

/// libusb's completion callback (event thread): report, then free the transfer. Reporting first
/// removes it from the in-flight set under the transport's lock, so `close()` never cancels a
/// freed transfer.
private func transferCompleted(_ transfer: UnsafeMutablePointer<libusb_transfer>?) {
    guard let transfer else { return }
    let completion = Unmanaged<TransferCompletion>.fromOpaque(transfer.pointee.user_data).takeRetainedValue()
    completion.complete(Int32(transfer.pointee.status.rawValue), Int(transfer.pointee.actual_length))
    libusb_free_transfer(transfer)
}
