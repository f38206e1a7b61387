import CLibUSB
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The thread that runs `libusb_handle_events` for a context: transfer completions and hotplug
/// callbacks are delivered here. `stop()` wakes it with `libusb_interrupt_event_handler` and joins.
final class LibUSBEventThread: @unchecked Sendable {
    // @unchecked: `context` is immutable and libusb contexts are thread-safe; `stopping` is atomic;
    // `thread` is written once in init, before any other access.
    private let context: OpaquePointer
    private let stopping = Atomic<Bool>(false)
    private var thread = pthread_t()
    private let joined = Atomic<Bool>(false)

    init(context: OpaquePointer) {
        self.context = context
        let box = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { raw in
            let owner = Unmanaged<LibUSBEventThread>.fromOpaque(raw!).takeRetainedValue()
            owner.loop()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed: \(result)")
    }

    private func loop() {
        while !stopping.load(ordering: .acquiring) {
            var timeout = timeval(tv_sec: 1, tv_usec: 0)
            _ = libusb_handle_events_timeout_completed(context, &timeout, nil)
        }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        libusb_interrupt_event_handler(context)
        guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pthread_join(thread, nil)
    }
}
