import CFunctionFS
public import CartridgeTransport
import CartridgeSystem
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The cartridge as a USB gadget: creates it in configfs (libusbgx), mounts FunctionFS, writes
/// the descriptors and strings, opens the bulk endpoints, binds the UDC, and then yields one
/// `FunctionFSTransport` per host session (each ENABLE), ending it on DISABLE, UNBIND or the next
/// ENABLE. A dedicated thread serves ep0 events (`ControlEndpointReader`); SETUP requests are
/// stalled (the function has no control requests), SUSPEND/RESUME are logged and serving continues.
/// When ep0 can no longer be read, the listener fails for good: the session in progress ends and
/// `accept` throws `TransportError.listenerFailed`, so the service ends with that error.
///
/// Unplug and replug (the UDC unbound and bound again, by the host side or by `unplug()`/`replug()`)
/// need no restart: the endpoint files stay valid and the next ENABLE starts a new session.
/// When `init` returns, the UDC is bound: that is the moment for systemd's `READY=1`.
public final class FunctionFSListener: CartridgeListener {
    private struct Sessions {
        var current: FunctionFSTransport?
        var pending: [FunctionFSTransport] = []
        var waiter: CheckedContinuation<Result<FunctionFSTransport?, TransportError>, Never>?
        var closed = false
        /// Set when the ep0 reader failed; every `accept` throws it from then on.
        var failure: TransportError?
        var sessionCount = 0
        var bound = false
    }

    public let configuration: GadgetConfiguration
    /// The UDC the gadget was bound to at start (`dummy_udc.0`).
    public let controller: String
    private let gadget: ConfigFSGadget
    private let controllers: USBDeviceControllers
    private let ep0: OwnedDescriptor
    private let outEndpoint: OwnedDescriptor
    private let inEndpoint: OwnedDescriptor
    private let controlReader: ControlEndpointReader
    private let sessions = Mutex(Sessions())
    private let closeStarted = Atomic<Bool>(false)
    private let logger: Logger

    public init(
        configuration: GadgetConfiguration, logger: Logger,
        controllers: USBDeviceControllers = USBDeviceControllers()
    ) throws(GadgetError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.controllers = controllers
        if configuration.usesTestProductID {
            logger.warning(
                "using a pid.codes test PID: test PIDs must not be used on devices that are redistributed; pass --pid with an allocated PID",
                metadata: ["usb.pid": "0x\(String(configuration.productID, radix: 16))"])
        }
        let chosen = try controllers.choose(requested: configuration.controller)
        controller = chosen
        gadget = try ConfigFSGadget(configuration: configuration) { path in
            logger.notice("removing a stale gadget left by a previous run", metadata: ["configfs.path": "\(path)"])
        }
        var mounted = false
        do throws(GadgetError) {
            // On an error below, the endpoints opened so far close themselves (OwnedDescriptor)
            // when this block is left, before the unmount in `catch`.
            try FunctionFSListener.mount(instance: configuration.functionInstance, at: configuration.mountPoint)
            mounted = true
            let ep0 = try FunctionFSListener.open("\(configuration.mountPoint)/ep0")
            try FunctionFSListener.writeDescriptors(to: ep0.rawValue, configuration: configuration, logger: logger)
            let outEndpoint = try FunctionFSListener.open("\(configuration.mountPoint)/ep1")
            let inEndpoint = try FunctionFSListener.open("\(configuration.mountPoint)/ep2")
            let controlReader: ControlEndpointReader
            do throws(SystemCallError) {
                controlReader = try ControlEndpointReader(endpoint: ep0.rawValue, logger: logger)
            } catch {
                throw GadgetError(.functionFS, "cannot create the ep0 wake-up eventfd", cause: error)
            }
            try gadget.bind(controller: chosen)
            self.ep0 = ep0
            self.outEndpoint = outEndpoint
            self.inEndpoint = inEndpoint
            self.controlReader = controlReader
        } catch {
            if mounted { umount2(configuration.mountPoint, Int32(MNT_DETACH)) }
            gadget.remove()
            throw error
        }
        sessions.withLock { $0.bound = true }
        logger.info(
            "gadget bound",
            metadata: [
                "usb.udc": "\(chosen)", "usb.vid": "0x1209", "usb.pid": "0x\(String(configuration.productID, radix: 16))",
                "usb.serial": "\(configuration.serialNumber)", "usb.max_power_ma": "\(configuration.maxPowerMilliamps)",
            ])
        // Strong captures, as before: the reader's job keeps the listener alive until `close()`
        // stops it (a last release on the reader's own thread would join that thread from itself).
        controlReader.start(
            events: { [self] events in for event in events { handle(event) } },
            failed: { [self] error in controlEndpointFailed(error) })
    }

    deinit { close() }

    public var endpointDescription: String { "usb:\(controller)" }

    /// Whether the gadget is bound to its UDC right now (false between `unplug()` and `replug()`,
    /// and after the kernel unbound it).
    public var isBound: Bool { gadget.boundController() != nil }

    /// The negotiated speed, from sysfs (`high-speed`, ...).
    public var currentSpeed: String? { controllers.currentSpeed(of: controller) }

    /// Changes bMaxPower. The host reads it only at enumeration: with `reenumerate`, the gadget is
    /// unbound and bound again so the host sees the new value (the current session ends).
    public func setMaxPower(milliamps: Int, reenumerate: Bool) throws(GadgetError) {
        try gadget.setMaxPower(milliamps: milliamps)
        logger.info("bMaxPower changed", metadata: ["usb.max_power_ma": "\(milliamps)", "usb.reenumerate": "\(reenumerate)"])
        if reenumerate && isBound {
            try unplug()
            try replug()
        }
    }

    /// bMaxPower as configured in configfs, in mA.
    public var maxPowerMilliamps: Int? { gadget.maxPowerMilliamps() }

    /// Detaches from the host (unbinds the UDC), as if the cable were pulled. The listener keeps running.
    public func unplug() throws(GadgetError) {
        try gadget.unbind()
    }

    /// Attaches again after `unplug()`.
    public func replug() throws(GadgetError) {
        if isBound { return }
        try gadget.bind(controller: controller)
    }

    public func accept() async throws(TransportError) -> (any CartridgeTransport)? {
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<FunctionFSTransport?, TransportError>, Never>) in
            let ready: Result<FunctionFSTransport?, TransportError>? = sessions.withLock { sessions in
                if sessions.closed { return .success(nil) }
                if !sessions.pending.isEmpty { return .success(sessions.pending.removeFirst()) }
                if let failure = sessions.failure { return .failure(failure) }
                precondition(sessions.waiter == nil, "FunctionFSListener.accept called concurrently")
                sessions.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try outcome.get()
    }

    /// The ep0 reader gave up: end the session in progress and fail every `accept` from now on.
    private func controlEndpointFailed(_ error: GadgetError) {
        let failure = TransportError(.listenerFailed, "the ep0 thread of usb:\(controller) stopped: \(error.message)", cause: error)
        logger.error("ep0 failed: the gadget can serve no more sessions", metadata: ["error": "\(error)"])
        let waiter = sessions.withLock { sessions -> CheckedContinuation<Result<FunctionFSTransport?, TransportError>, Never>? in
            sessions.failure = failure
            defer { sessions.waiter = nil }
            return sessions.waiter
        }
        _ = endSession()
        waiter?.resume(returning: .failure(failure))
    }

    public func close() {
        guard !closeStarted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        controlReader.stop()
        let (current, pending, waiter) = sessions.withLock { sessions in
            sessions.closed = true
            defer { sessions.current = nil; sessions.pending = []; sessions.waiter = nil }
            return (sessions.current, sessions.pending, sessions.waiter)
        }
        waiter?.resume(returning: .success(nil))
        current?.end()
        for session in pending { session.end() }
        do { try gadget.unbind() } catch { logger.warning("unbinding the UDC failed", metadata: ["error": "\(error)"]) }
        for (name, endpoint) in [("ep2", inEndpoint), ("ep1", outEndpoint), ("ep0", ep0)] {
            do throws(SystemCallError) { try endpoint.close() } catch {
                logger.notice("closing a FunctionFS endpoint failed", metadata: ["usb.endpoint": "\(name)", "error": "\(error)"])
            }
        }
        if umount2(configuration.mountPoint, Int32(MNT_DETACH)) != 0 {
            logger.warning("unmounting FunctionFS failed", metadata: ["error": "\(SystemCallError.current("umount2"))"])
        }
        gadget.remove()
        logger.info("gadget removed", metadata: ["usb.udc": "\(controller)"])
    }

    // MARK: ep0

    private func handle(_ event: FunctionFSEvent) {
        switch event.kind {
        case .bind:
            sessions.withLock { $0.bound = true }
            logger.info("ep0 BIND", metadata: ["usb.udc": "\(controller)"])
        case .enable:
            startSession()
        case .disable, .unbind:
            let ended = endSession()
            if event.kind == .unbind { sessions.withLock { $0.bound = false } }
            logger.info("ep0 \(event.kind)", metadata: ["usb.session_ended": "\(ended)"])
        case .setup:
            stall(event.setup)
            logger.debug("stalled a control request", metadata: ["usb.setup": "\(event)"])
        case .suspend, .resume:
            logger.debug("ep0 \(event.kind): still serving")
        default:
            logger.debug("ignored ep0 event", metadata: ["usb.event": "\(event)"])
        }
    }

    /// Answers a SETUP with a stall: I/O on ep0 in the direction opposite to the data stage.
    private func stall(_ setup: FunctionFSEvent.SetupPacket) {
        var byte: UInt8 = 0
        if setup.isDeviceToHost {
            _ = read(ep0.rawValue, &byte, 0)
        } else {
            _ = write(ep0.rawValue, &byte, 0)
        }
    }

    private func startSession() {
        _ = endSession()
        let packetSize = FunctionFSListener.packetSize(of: inEndpoint.rawValue)
        let speed = currentSpeed ?? "unknown"
        let (session, waiter, number) = sessions.withLock {
            sessions -> (FunctionFSTransport, CheckedContinuation<Result<FunctionFSTransport?, TransportError>, Never>?, Int) in
            sessions.sessionCount += 1
            let session = FunctionFSTransport(
                outDescriptor: outEndpoint.rawValue, inDescriptor: inEndpoint.rawValue, packetSize: packetSize,
                peerDescription: "usb:\(controller)#\(sessions.sessionCount)")
            sessions.current = session
            let waiter = sessions.waiter
            sessions.waiter = nil
            if waiter == nil { sessions.pending.append(session) }
            return (session, waiter, sessions.sessionCount)
        }
        logger.info(
            "ep0 ENABLE: host session started",
            metadata: ["usb.session": "\(number)", "usb.speed": "\(speed)", "usb.max_packet": "\(packetSize)"])
        waiter?.resume(returning: .success(session))
    }

    private func endSession() -> Bool {
        let current = sessions.withLock { sessions -> FunctionFSTransport? in
            defer { sessions.current = nil; sessions.pending = [] }
            return sessions.current
        }
        current?.end()
        return current != nil
    }

    // MARK: Setup steps

    private static func mount(instance: String, at mountPoint: String) throws(GadgetError) {
        makeDirectories(mountPoint)
        umount2(mountPoint, Int32(MNT_DETACH))  // a stale mount from a crashed run
        guard Glibc.mount(instance, mountPoint, "functionfs", 0, nil) == 0 else {
            let error = SystemCallError.current("mount")
            throw GadgetError(
                error.errno == EPERM ? .permissionDenied : .functionFS,
                "cannot mount FunctionFS instance '\(instance)' at \(mountPoint) (is usb_f_fs loaded? root needed)",
                cause: error)
        }
    }

    private static func makeDirectories(_ path: String) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/\(component)"
            mkdir(prefix, 0o755)
        }
    }

    private static func open(_ path: String) throws(GadgetError) -> OwnedDescriptor {
        do throws(SystemCallError) {
            return try OwnedDescriptor.open(path, O_RDWR)
        } catch {
            throw GadgetError(.functionFS, "cannot open \(path)", cause: error)
        }
    }

    private static func writeDescriptors(to ep0: Int32, configuration: GadgetConfiguration, logger: Logger) throws(GadgetError) {
        var descriptors = FunctionFSDescriptors(
            interfaceName: configuration.product, microsoftOSDescriptors: configuration.microsoftOSDescriptors)
        var blob = descriptors.descriptorBlob()
        var written = blob.withUnsafeBytes { write(ep0, $0.baseAddress, $0.count) }
        if written != blob.count && descriptors.microsoftOSDescriptors {
            logger.notice(
                "FunctionFS refused the Microsoft OS descriptors; continuing without them (Windows will need a driver)",
                metadata: ["error": "\(SystemCallError.current("write"))"])
            descriptors.microsoftOSDescriptors = false
            blob = descriptors.descriptorBlob()
            written = blob.withUnsafeBytes { write(ep0, $0.baseAddress, $0.count) }
        }
        guard written == blob.count else {
            throw GadgetError(.functionFS, "FunctionFS rejected the descriptors", cause: SystemCallError.current("write"))
        }
        let strings = descriptors.stringBlob()
        guard strings.withUnsafeBytes({ write(ep0, $0.baseAddress, $0.count) }) == strings.count else {
            throw GadgetError(.functionFS, "FunctionFS rejected the strings", cause: SystemCallError.current("write"))
        }
    }

    /// wMaxPacketSize of an endpoint at the current speed (FUNCTIONFS_ENDPOINT_DESC), 512 if unknown.
    private static func packetSize(of endpoint: Int32) -> Int {
        var descriptor = usb_endpoint_descriptor()
        guard CFunctionFS_endpoint_descriptor(endpoint, &descriptor) >= 0 else {
            return Int(FunctionFSDescriptors.highSpeedPacketSize)
        }
        let size = Int(UInt16(littleEndian: descriptor.wMaxPacketSize) & 0x07FF)
        return size > 0 ? size : Int(FunctionFSDescriptors.highSpeedPacketSize)
    }
}
