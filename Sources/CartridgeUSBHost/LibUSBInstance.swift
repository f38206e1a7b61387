import CLibUSB

/// One libusb context and the thread that handles its events (which calls `libusb_exit` when
/// this is released).
///
/// Scans and connections each get a fresh instance: without udevd (containers, the test VM)
/// libusb learns about devices only when a context is created, so a long-lived context would
/// never see a cartridge that was replugged. Handles and transfers keep their instance alive.
final class LibUSBInstance: @unchecked Sendable {
    // @unchecked: `pointer` is immutable and libusb contexts are thread-safe.
    let pointer: OpaquePointer
    /// The event thread, which is also the executor that transfer waiters may prefer.
    let events: LibUSBEventThread

    init() throws(USBHostError) {
        var context: OpaquePointer?
        let status = libusb_init(&context)
        guard status == 0, let context else { throw .libusb(status, "libusb_init failed") }
        pointer = context
        events = LibUSBEventThread(context: context)
    }

    deinit {
        events.stop()  // the event thread calls libusb_exit as it ends
    }
}
