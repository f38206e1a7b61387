import CUSBGadget
import CartridgeSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The cartridge gadget in configfs, made with libusbgx: device identity and strings, one
/// configuration (bMaxPower), one FunctionFS function. It does not mount FunctionFS or bind the
/// UDC by itself: `FunctionFSListener` orders those steps (descriptors before bind).
final class ConfigFSGadget: @unchecked Sendable {
    // @unchecked: the libusbgx handles are only touched under `lock`; libusbgx itself is not
    // thread-safe, and this is its only user in the process.
    private let lock = Mutex(())
    private let state: OpaquePointer
    private let gadget: OpaquePointer
    private let config: OpaquePointer
    private let configuration: GadgetConfiguration
    private var removed = false

    /// The configfs directory of the gadget.
    var directory: String { "\(configuration.configfsRoot)/usb_gadget/\(configuration.gadgetName)" }

    /// Creates the gadget, first removing one with the same name left behind by a crash
    /// (unbinding it and detaching a stale FunctionFS mount at `configuration.mountPoint`).
    init(configuration: GadgetConfiguration, onStaleGadget: (String) -> Void) throws(GadgetError) {
        self.configuration = configuration
        var state: OpaquePointer?
        let status = usbg_init(configuration.configfsRoot, &state)
        guard status == USBG_SUCCESS.rawValue, let state else {
            throw GadgetError(
                .configfsUnavailable,
                "\(configuration.configfsRoot)/usb_gadget is not available: mount configfs and load libcomposite "
                    + "(modprobe libcomposite)",
                cause: ConfigFSGadget.libraryError("usbg_init", status))
        }
        self.state = state
        do throws(GadgetError) {
            if let stale = usbg_get_gadget(state, configuration.gadgetName) {
                onStaleGadget("\(configuration.configfsRoot)/usb_gadget/\(configuration.gadgetName)")
                _ = usbg_disable_gadget(stale)
                umount2(configuration.mountPoint, Int32(MNT_DETACH))
                try ConfigFSGadget.check("usbg_rm_gadget", usbg_rm_gadget(stale, USBG_RM_RECURSE))
            }
            var attributes = usbg_gadget_attrs(
                bcdUSB: 0x0200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0, bMaxPacketSize0: 64,
                idVendor: GadgetConfiguration.vendorID, idProduct: configuration.productID,
                bcdDevice: configuration.deviceRelease)
            let manufacturer = strdup(configuration.manufacturer)
            let product = strdup(configuration.product)
            let serial = strdup(configuration.serialNumber)
            defer { free(manufacturer); free(product); free(serial) }
            var strings = usbg_gadget_strs(manufacturer: manufacturer, product: product, serial: serial)
            var gadget: OpaquePointer?
            try ConfigFSGadget.check(
                "usbg_create_gadget", usbg_create_gadget(state, configuration.gadgetName, &attributes, &strings, &gadget))
            guard let gadget else { throw GadgetError(.gadgetSetup, "usbg_create_gadget returned no gadget") }
            self.gadget = gadget

            var function: OpaquePointer?
            try ConfigFSGadget.check(
                "usbg_create_function", usbg_create_function(gadget, USBG_F_FFS, configuration.functionInstance, nil, &function))
            var configAttributes = usbg_config_attrs(
                bmAttributes: 0x80, bMaxPower: UInt8(clamping: configuration.maxPowerMilliamps))
            let label = strdup("cartridge")
            defer { free(label) }
            var configStrings = usbg_config_strs(configuration: label)
            var config: OpaquePointer?
            try ConfigFSGadget.check(
                "usbg_create_config", usbg_create_config(gadget, 1, "c", &configAttributes, &configStrings, &config))
            guard let config, let function else { throw GadgetError(.gadgetSetup, "libusbgx returned no config/function") }
            self.config = config
            try ConfigFSGadget.check("usbg_add_config_function", usbg_add_config_function(config, "cartridge", function))
            // MaxPower above 255 mA does not fit usbg_config_attrs' UInt8 (configfs takes mA up to 900).
            if configuration.maxPowerMilliamps > 255 {
                try ConfigFSGadget.check(
                    "usbg_set_config_max_power", usbg_set_config_max_power(config, Int32(configuration.maxPowerMilliamps)))
            }
            if configuration.microsoftOSDescriptors {
                let signature = strdup("MSFT100")
                defer { free(signature) }
                var descriptors = usbg_gadget_os_descs(use: true, b_vendor_code: 0xCA, qw_sign: signature)
                try ConfigFSGadget.check("usbg_set_gadget_os_descs", usbg_set_gadget_os_descs(gadget, &descriptors))
                try ConfigFSGadget.check("usbg_set_os_desc_config", usbg_set_os_desc_config(gadget, config))
            }
        } catch {
            if let gadget = usbg_get_gadget(state, configuration.gadgetName) {
                _ = usbg_rm_gadget(gadget, USBG_RM_RECURSE)
            }
            usbg_cleanup(state)
            throw error
        }
    }

    deinit {
        remove()
    }

    /// Binds the gadget to `controller` (writes the UDC attribute).
    func bind(controller: String) throws(GadgetError) {
        try writeAttribute("UDC", controller, describing: "bind to UDC \(controller)")
    }

    /// Unbinds from the UDC (the host sees an unplug). Harmless when not bound.
    func unbind() throws(GadgetError) {
        if boundController() == nil { return }
        try writeAttribute("UDC", "\n", describing: "unbind from the UDC")
    }

    /// The UDC the gadget is bound to, read from configfs (the kernel clears it when the function goes away).
    func boundController() -> String? {
        guard let text = ConfigFSGadget.readFile("\(directory)/UDC") else { return nil }
        let name = text.filter { !$0.isWhitespace }
        return name.isEmpty ? nil : name
    }

    /// Sets bMaxPower (mA). The host reads it at enumeration; `FunctionFSListener` re-enumerates if asked.
    func setMaxPower(milliamps: Int) throws(GadgetError) {
        guard (0...900).contains(milliamps) else {
            throw GadgetError(.invalidConfiguration, "bMaxPower \(milliamps) mA is outside 0...900 mA")
        }
        try lock.withLock { _ throws(GadgetError) in
            try ConfigFSGadget.check("usbg_set_config_max_power", usbg_set_config_max_power(config, Int32(milliamps)))
        }
    }

    /// The configured bMaxPower in mA, read back from configfs.
    func maxPowerMilliamps() -> Int? {
        ConfigFSGadget.readFile("\(directory)/configs/c.1/MaxPower").flatMap { Int($0.filter { !$0.isWhitespace }) }
    }

    /// Unbinds and deletes the gadget from configfs. Idempotent. FunctionFS must be unmounted first
    /// (configfs refuses to remove a function whose instance is still mounted and in use).
    func remove() {
        lock.withLock { _ in
            guard !removed else { return }
            removed = true
            _ = usbg_disable_gadget(gadget)
            _ = usbg_rm_gadget(gadget, USBG_RM_RECURSE)
            usbg_cleanup(state)
        }
    }

    private func writeAttribute(_ name: String, _ value: String, describing action: String) throws(GadgetError) {
        let path = "\(directory)/\(name)"
        let descriptor: OwnedDescriptor
        do throws(SystemCallError) {
            descriptor = try OwnedDescriptor.open(path, O_WRONLY)
        } catch {
            throw ConfigFSGadget.sorted(error, "cannot \(action): \(path)")
        }
        // A configfs attribute takes the value in one write(2) (a short write is refused whole).
        let bytes = Array(value.utf8)
        do throws(SystemCallError) {
            let written = try SystemCall.retryingInterrupts("write") {
                bytes.withUnsafeBytes { write(descriptor.rawValue, $0.baseAddress, $0.count) }
            }
            guard written == bytes.count else { throw SystemCallError(systemCall: "write (short)", errno: .ioError) }
            try descriptor.close()  // configfs may report the attribute's error only here
        } catch {
            throw ConfigFSGadget.sorted(error, "cannot \(action) (\(path))")
        }
    }

    static func sorted(_ error: SystemCallError, _ message: String) -> GadgetError {
        switch error.code {
        case .permissionDenied, .notPermitted: GadgetError(.permissionDenied, "\(message): run as root or with CAP_SYS_ADMIN", cause: error)
        case .busy: GadgetError(.busy, "\(message): the UDC is used by another gadget", cause: error)
        case .noSuchDevice, .noSuchFileOrDirectory: GadgetError(.noController, "\(message): no such UDC, or FunctionFS not ready", cause: error)
        default: GadgetError(.gadgetSetup, message, cause: error)
        }
    }

    static func readFile(_ path: String) -> String? {
        guard let descriptor = try? OwnedDescriptor.open(path, O_RDONLY), let bytes = try? descriptor.readToEnd(limit: 256) else {
            return nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func libraryError(_ function: String, _ status: Int32) -> USBGadgetLibraryError {
        let name = usbg_error_name(usbg_error(rawValue: status)).map { String(cString: $0) } ?? "?"
        return USBGadgetLibraryError(function: function, code: status, name: name)
    }

    private static func check(_ function: String, _ status: Int32) throws(GadgetError) {
        guard status != USBG_SUCCESS.rawValue else { return }
        let cause = libraryError(function, status)
        let code: GadgetError.Code = status == USBG_ERROR_NO_ACCESS.rawValue ? .permissionDenied : .gadgetSetup
        throw GadgetError(code, "configfs gadget setup failed: \(cause)", cause: cause)
    }
}
