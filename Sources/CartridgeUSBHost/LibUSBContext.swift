import CLibUSB
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The host's view of the USB bus: a libusb context whose events (transfer completions, hotplug)
/// are handled on a dedicated thread. Finds cartridges by their interface triple (class 0xFF,
/// subclass 0xCA, protocol 0x01) whatever their VID/PID, opens them as `LibUSBTransport`s, and
/// reports arrivals and departures.
public final class LibUSBContext: @unchecked Sendable {
    // @unchecked: mutable state (`known`, `hotplugInstance`) is in Mutexes; libusb contexts are
    // thread-safe; blocking libusb calls run on `worker`.
    private let hotplugInstance = Mutex<LibUSBInstance?>(nil)
    private let worker = DedicatedThread(name: "usb-host")
    private let known = Mutex<[String: CartridgeDeviceInfo]>([:])

    public static let interfaceClass: UInt8 = 0xFF
    public static let interfaceSubclass: UInt8 = 0xCA
    public static let interfaceProtocol: UInt8 = 0x01

    /// Cheap: libusb contexts are created per scan, per connection and for hotplug, on demand.
    public init() {}

    /// The long-lived context that hotplug callbacks are registered on.
    private func hotplugContext() throws(USBHostError) -> LibUSBInstance {
        try hotplugInstance.withLock { (instance: inout LibUSBInstance?) throws(USBHostError) -> LibUSBInstance in
            if let instance { return instance }
            let created = try LibUSBInstance()
            instance = created
            return created
        }
    }

    deinit {
        worker.shutdown()
    }

    // MARK: Discovery

    /// Every cartridge on the bus, with product and serial when the device can be opened.
    public func cartridges() async throws(USBHostError) -> [CartridgeDeviceInfo] {
        do {
            return try await worker.run { [self] in try scan(in: LibUSBInstance()).map(\.info) }
        } catch let error as USBHostError {
            throw error
        } catch {
            throw USBHostError(.closed, "the USB host worker has stopped (\(error))")
        }
    }

    /// A cartridge found during a scan, with a reference on its libusb device.
    struct Candidate: @unchecked Sendable {
        // @unchecked: `device` is a referenced libusb_device, usable from any thread.
        var device: OpaquePointer
        var info: CartridgeDeviceInfo
        var endpoints: CartridgeEndpoints
    }

    /// Enumerates (blocking; runs on `worker`). The devices of candidates for which `keep` returns
    /// true get an extra reference the caller must drop (`libusb_unref_device`); the others are only
    /// valid until this returns.
    func scan(in instance: LibUSBInstance, keep: ((CartridgeDeviceInfo) -> Bool)? = nil) throws(USBHostError) -> [Candidate] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = libusb_get_device_list(instance.pointer, &list)
        guard count >= 0, let list else { throw .libusb(Int32(count), "cannot list USB devices") }
        defer { libusb_free_device_list(list, 1) }
        var found: [Candidate] = []
        for index in 0..<count {
            guard let device = list[index], let endpoints = CartridgeEndpoints.find(in: device) else { continue }
            var info = LibUSBContext.basicInfo(device, interfaceNumber: endpoints.interfaceNumber)
            LibUSBContext.readStrings(into: &info, from: device)
            remember(info)
            if keep?(info) ?? false { libusb_ref_device(device) }
            found.append(Candidate(device: device, info: info, endpoints: endpoints))
        }
        return found
    }

    private func remember(_ info: CartridgeDeviceInfo) {
        known.withLock { $0["\(info.busNumber)-\(info.deviceAddress)"] = info }
    }

    static func basicInfo(_ device: OpaquePointer, interfaceNumber: UInt8) -> CartridgeDeviceInfo {
        var descriptor = libusb_device_descriptor()
        _ = libusb_get_device_descriptor(device, &descriptor)
        var ports = [UInt8](repeating: 0, count: 8)
        let portCount = libusb_get_port_numbers(device, &ports, Int32(ports.count))
        return CartridgeDeviceInfo(
            busNumber: libusb_get_bus_number(device), deviceAddress: libusb_get_device_address(device),
            portNumbers: portCount > 0 ? Array(ports[..<Int(portCount)]) : [],
            vendorID: descriptor.idVendor, productID: descriptor.idProduct, interfaceNumber: interfaceNumber)
    }

    /// Opens the device briefly to read iManufacturer, iProduct and iSerialNumber.
    static func readStrings(into info: inout CartridgeDeviceInfo, from device: OpaquePointer) {
        var descriptor = libusb_device_descriptor()
        _ = libusb_get_device_descriptor(device, &descriptor)
        var handle: OpaquePointer?
        let status = libusb_open(device, &handle)
        guard status == 0, let handle else {
            info.problem =
                status == LIBUSB_ERROR_ACCESS.rawValue
                ? "permission denied: install udev/70-cartridge.rules" : String(cString: libusb_error_name(status))
            return
        }
        defer { libusb_close(handle) }
        func string(_ index: UInt8) -> String? {
            guard index != 0 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 256)
            let length = libusb_get_string_descriptor_ascii(handle, index, &buffer, Int32(buffer.count))
            return length >= 0 ? String(decoding: buffer[..<Int(length)], as: UTF8.self) : nil
        }
        info.manufacturer = string(descriptor.iManufacturer)
        info.product = string(descriptor.iProduct)
        info.serialNumber = string(descriptor.iSerialNumber)
    }

    // MARK: Opening

    /// Opens the cartridge whose serial starts with `serial`, or the only one plugged in.
    /// Retries permission errors for `permissionRetry` (udev may not have applied the rule yet
    /// right after plug-in), then reports them pointing at the udev rule. Another process
    /// holding the interface gives `.busy`.
    ///
    /// Opening resets the device-side session (SET_INTERFACE makes the gadget see a new ENABLE),
    /// so a previous host process that died mid-stream leaves nothing behind.
    public func open(serial: String? = nil, permissionRetry: Duration = .seconds(2)) async throws(USBHostError) -> LibUSBTransport {
        try await open(.serial(serial), permissionRetry: permissionRetry)
    }

    /// Opens the cartridge plugged in at the bus/port path `portPath` (`1-1.2`, as
    /// `CartridgeDeviceInfo.location` and `cartridge list` write it). This tells apart sticks
    /// burned from the same image, which share a serial. Permission errors as in `open(serial:)`.
    public func open(portPath: String, permissionRetry: Duration = .seconds(2)) async throws(USBHostError) -> LibUSBTransport {
        try await open(.portPath(portPath), permissionRetry: permissionRetry)
    }

    /// Which cartridge `open` means.
    private enum Selection: Sendable {
        /// A serial prefix, or nil for the only cartridge plugged in.
        case serial(String?)
        case portPath(String)

        func selects(_ info: CartridgeDeviceInfo) -> Bool {
            switch self {
            case .serial(let serial): serial.map { info.matches(serial: $0) } ?? true
            case .portPath(let path): info.location == path
            }
        }

        /// Whether a device must be readable (strings) to be selected.
        var needsSerial: Bool {
            if case .serial(let serial) = self { return serial != nil }
            return false
        }

        var missing: String {
            switch self {
            case .serial(let serial): serial.map { "no cartridge with serial '\($0)'" } ?? "no cartridge"
            case .portPath(let path): "no cartridge at \(path)"
            }
        }
    }

    private func open(_ selection: Selection, permissionRetry: Duration) async throws(USBHostError) -> LibUSBTransport {
        let outcome: Result<LibUSBTransport, USBHostError>
        do {
            outcome = try await worker.run { [self] in
                do throws(USBHostError) { return .success(try openBlocking(selection, permissionRetry: permissionRetry)) } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw USBHostError(.closed, "the USB host worker has stopped")
        }
        return try outcome.get()
    }

    private func openBlocking(_ selection: Selection, permissionRetry: Duration) throws(USBHostError) -> LibUSBTransport {
        let deadline = ContinuousClock.now + permissionRetry
        while true {
            let selects = { (info: CartridgeDeviceInfo) in selection.selects(info) }
            let instance = try LibUSBInstance()
            let candidates = try scan(in: instance, keep: selects)
            let matching = candidates.filter { selects($0.info) }
            defer { for candidate in matching { libusb_unref_device(candidate.device) } }
            let unreadable = candidates.filter { $0.info.serialNumber == nil && (selection.needsSerial || selects($0.info)) }
            if matching.isEmpty {
                if !unreadable.isEmpty {
                    if ContinuousClock.now < deadline {
                        usleep(100_000)
                        continue
                    }
                    let detail = unreadable.map(\.info.description).joined(separator: "; ")
                    throw USBHostError(
                        .permissionDenied,
                        "found a cartridge but cannot open it (\(detail)); \(USBHostError.udevRuleHint)",
                        libusbCode: LIBUSB_ERROR_ACCESS.rawValue, libusbName: "LIBUSB_ERROR_ACCESS")
                }
                let present =
                    candidates.isEmpty
                    ? "none plugged in" : "present: " + candidates.map { "\($0.info.serialNumber ?? "?") at \($0.info.location)" }.joined(separator: ", ")
                throw USBHostError(.notFound, "\(selection.missing) (\(present))")
            }
            guard matching.count == 1 else {
                let serials = matching.map { "usb:\($0.info.serialNumber ?? "?") at usb@\($0.info.location)" }.joined(separator: ", ")
                throw USBHostError(
                    .ambiguous,
                    "\(matching.count) cartridges match; choose one with usb:SERIAL, or with usb@BUS-PORT where sticks share a serial (\(serials))")
            }
            let candidate = matching[0]
            var handle: OpaquePointer?
            let status = libusb_open(candidate.device, &handle)
            if status == LIBUSB_ERROR_ACCESS.rawValue && ContinuousClock.now < deadline {
                usleep(100_000)
                continue
            }
            guard status == 0, let handle else {
                throw .libusb(status, "cannot open the cartridge at \(candidate.info.location)")
            }
            return try claim(handle: handle, candidate: candidate, instance: instance)
        }
    }

    private func claim(handle: OpaquePointer, candidate: Candidate, instance: LibUSBInstance) throws(USBHostError) -> LibUSBTransport {
        let interface = Int32(candidate.endpoints.interfaceNumber)
        _ = libusb_set_auto_detach_kernel_driver(handle, 1)
        let claimed = libusb_claim_interface(handle, interface)
        guard claimed == 0 else {
            libusb_close(handle)
            throw .libusb(claimed, "cannot claim the cartridge interface at \(candidate.info.location)")
        }
        // A fresh session on the device (FunctionFS ENABLE), data toggles reset on both sides.
        let reset = libusb_set_interface_alt_setting(handle, interface, 0)
        if reset != 0 {
            libusb_release_interface(handle, interface)
            libusb_close(handle)
            throw .libusb(reset, "cannot reset the cartridge interface at \(candidate.info.location)")
        }
        _ = libusb_clear_halt(handle, candidate.endpoints.inAddress)
        _ = libusb_clear_halt(handle, candidate.endpoints.outAddress)
        return LibUSBTransport(instance: instance, handle: handle, endpoints: candidate.endpoints, device: candidate.info)
    }

    // MARK: Hotplug

    /// Cartridges arriving and leaving, starting with the ones already plugged in (as arrivals).
    /// Needs libusb hotplug support (udev running on Linux).
    public func hotplugEvents() throws(USBHostError) -> some AsyncSequence<USBHotplugEvent, Never> {
        guard libusb_has_capability(UInt32(LIBUSB_CAP_HAS_HOTPLUG.rawValue)) != 0 else {
            throw USBHostError(.unsupported, "this libusb has no hotplug support")
        }
        let hotplug = try hotplugContext()
        let (raw, continuation) = AsyncStream.makeStream(of: RawHotplugEvent.self)
        let sink = Unmanaged.passRetained(HotplugSink(continuation: continuation))
        var callbackHandle: libusb_hotplug_callback_handle = 0
        let events = Int32(LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED.rawValue | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT.rawValue)
        let status = libusb_hotplug_register_callback(
            hotplug.pointer, events, Int32(LIBUSB_HOTPLUG_ENUMERATE.rawValue), LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
            LIBUSB_HOTPLUG_MATCH_ANY, hotplugCallback, sink.toOpaque(), &callbackHandle)
        guard status == 0 else {
            sink.release()
            throw .libusb(status, "cannot register for hotplug events")
        }
        let registration = HotplugRegistration(instance: hotplug, handle: callbackHandle, sink: sink)
        continuation.onTermination = { _ in registration.cancel() }
        return raw.compactMap { [self] event -> USBHotplugEvent? in
            switch event.kind {
            case .arrived:
                let device = event.device
                let described = try? await worker.run { () -> CartridgeDeviceInfo in
                    var info = device.info
                    LibUSBContext.readStrings(into: &info, from: device.pointer)
                    libusb_unref_device(device.pointer)
                    return info
                }
                let info = described ?? device.info
                remember(info)
                return .arrived(info)
            case .left:
                libusb_unref_device(event.device.pointer)
                let key = "\(event.device.info.busNumber)-\(event.device.info.deviceAddress)"
                let info = known.withLock { $0.removeValue(forKey: key) } ?? event.device.info
                return .left(info)
            }
        }
    }

}

/// The endpoints of a cartridge interface, read from its descriptors (never hard-coded:
/// controllers renumber them).
struct CartridgeEndpoints: Sendable, Hashable {
    var interfaceNumber: UInt8
    var inAddress: UInt8
    var outAddress: UInt8
    var inPacketSize: Int
    var outPacketSize: Int

    static func find(in device: OpaquePointer) -> CartridgeEndpoints? {
        var config: UnsafeMutablePointer<libusb_config_descriptor>?
        if libusb_get_active_config_descriptor(device, &config) != 0 {
            guard libusb_get_config_descriptor(device, 0, &config) == 0 else { return nil }
        }
        guard let config else { return nil }
        defer { libusb_free_config_descriptor(config) }
        for interfaceIndex in 0..<Int(config.pointee.bNumInterfaces) {
            let interface = config.pointee.interface[interfaceIndex]
            for settingIndex in 0..<Int(interface.num_altsetting) {
                let setting = interface.altsetting[settingIndex]
                guard setting.bInterfaceClass == LibUSBContext.interfaceClass,
                    setting.bInterfaceSubClass == LibUSBContext.interfaceSubclass,
                    setting.bInterfaceProtocol == LibUSBContext.interfaceProtocol
                else { continue }
                var found = CartridgeEndpoints(
                    interfaceNumber: setting.bInterfaceNumber, inAddress: 0, outAddress: 0, inPacketSize: 0, outPacketSize: 0)
                for endpointIndex in 0..<Int(setting.bNumEndpoints) {
                    let endpoint = setting.endpoint[endpointIndex]
                    guard endpoint.bmAttributes & 0x03 == 0x02 else { continue }  // bulk
                    let size = Int(endpoint.wMaxPacketSize & 0x07FF)
                    if endpoint.bEndpointAddress & 0x80 != 0 {
                        if found.inAddress == 0 { (found.inAddress, found.inPacketSize) = (endpoint.bEndpointAddress, size) }
                    } else if found.outAddress == 0 {
                        (found.outAddress, found.outPacketSize) = (endpoint.bEndpointAddress, size)
                    }
                }
                if found.inAddress != 0 && found.outAddress != 0 { return found }
            }
        }
        return nil
    }
}

/// A referenced libusb_device and what the hotplug callback could learn without I/O.
struct ReferencedDevice: @unchecked Sendable {
    // @unchecked: a referenced libusb_device may be used from any thread.
    var pointer: OpaquePointer
    var info: CartridgeDeviceInfo
}

struct RawHotplugEvent: Sendable {
    enum Kind: Sendable { case arrived, left }
    var kind: Kind
    var device: ReferencedDevice
}

final class HotplugSink: Sendable {
    let continuation: AsyncStream<RawHotplugEvent>.Continuation
    init(continuation: AsyncStream<RawHotplugEvent>.Continuation) { self.continuation = continuation }
}

final class HotplugRegistration: @unchecked Sendable {
    // @unchecked: `cancelled` is atomic; the rest is immutable.
    private let instance: LibUSBInstance
    private let handle: libusb_hotplug_callback_handle
    private let sink: Unmanaged<HotplugSink>
    private let cancelled = Atomic<Bool>(false)

    init(instance: LibUSBInstance, handle: libusb_hotplug_callback_handle, sink: Unmanaged<HotplugSink>) {
        self.instance = instance
        self.handle = handle
        self.sink = sink
    }

    func cancel() {
        guard !cancelled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        libusb_hotplug_deregister_callback(instance.pointer, handle)
        sink.release()
    }
}

/// Called by libusb on its event thread. Only device-level calls are allowed here (no I/O), so
/// strings are read later, on the context's worker.
private func hotplugCallback(
    _ context: OpaquePointer?, _ device: OpaquePointer?, _ event: libusb_hotplug_event, _ userData: UnsafeMutableRawPointer?
) -> Int32 {
    guard let device, let userData else { return 0 }
    let sink = Unmanaged<HotplugSink>.fromOpaque(userData).takeUnretainedValue()
    guard let endpoints = CartridgeEndpoints.find(in: device) else { return 0 }
    let info = LibUSBContext.basicInfo(device, interfaceNumber: endpoints.interfaceNumber)
    libusb_ref_device(device)
    let kind: RawHotplugEvent.Kind = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED ? .arrived : .left
    if case .terminated = sink.continuation.yield(RawHotplugEvent(kind: kind, device: ReferencedDevice(pointer: device, info: info))) {
        libusb_unref_device(device)
    }
    return 0
}
