import CLibUSB
public import CartridgeSystem
public import CartridgeTransport

/// Errors of the host side of USB (libusb): discovery, opening, claiming, transfers.
/// Carries the libusb error code and name when libusb reported one.
public struct USBHostError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case notFound, ambiguous, permissionDenied, busy, disconnected, closed, unsupported, io
        }
        private var base: Base
        private init(_ base: Base) { self.base = base }

        /// No cartridge (with that serial) is plugged in.
        public static let notFound = Code(.notFound)
        /// Several cartridges match; pick one by serial.
        public static let ambiguous = Code(.ambiguous)
        /// The device node is not accessible: the udev rule is missing or not applied yet.
        public static let permissionDenied = Code(.permissionDenied)
        /// Another process holds the cartridge's interface.
        public static let busy = Code(.busy)
        public static let disconnected = Code(.disconnected)
        public static let closed = Code(.closed)
        public static let unsupported = Code(.unsupported)
        public static let io = Code(.io)

        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    /// The libusb status (`LIBUSB_ERROR_*` or `LIBUSB_TRANSFER_*`), if libusb reported one.
    public var libusbCode: Int32?
    /// Its name (`LIBUSB_ERROR_BUSY`, `LIBUSB_TRANSFER_NO_DEVICE`).
    public var libusbName: String?
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, libusbCode: Int32? = nil, libusbName: String? = nil,
        cause: (any Error & Sendable)? = nil, fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.libusbCode = libusbCode
        self.libusbName = libusbName
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    /// The udev rule that grants access, named in permission errors.
    public static let udevRuleHint =
        "install udev/70-cartridge.rules into /etc/udev/rules.d/, run 'udevadm control --reload && udevadm trigger', "
        + "replug the cartridge, and make sure you are on the local seat or in the plugdev group"

    /// Sorts a `LIBUSB_ERROR_*` return value.
    static func libusb(
        _ status: Int32, _ message: String, fileID: String = #fileID, line: Int = #line
    ) -> USBHostError {
        let name = String(cString: libusb_error_name(status))
        let code: Code
        var text = message
        switch status {
        case LIBUSB_ERROR_ACCESS.rawValue:
            code = .permissionDenied
            text += ": permission denied; \(udevRuleHint)"
        case LIBUSB_ERROR_BUSY.rawValue:
            code = .busy
            text += ": another process is using this cartridge"
        case LIBUSB_ERROR_NO_DEVICE.rawValue: code = .disconnected
        case LIBUSB_ERROR_NOT_FOUND.rawValue: code = .notFound
        case LIBUSB_ERROR_NOT_SUPPORTED.rawValue: code = .unsupported
        default: code = .io
        }
        return USBHostError(code, text, libusbCode: status, libusbName: name, fileID: fileID, line: line)
    }

    /// This error as a transport error (the code carries over; this error becomes the cause).
    public var transportError: TransportError {
        let transportCode: TransportError.Code =
            switch code {
            case .notFound: .notFound
            case .permissionDenied: .permissionDenied
            case .busy: .busy
            case .disconnected: .disconnected
            case .closed: .closed
            case .unsupported: .unsupported
            default: .io
            }
        return TransportError(transportCode, message, cause: self, fileID: location.fileID, line: location.line)
    }

    /// The libusb status, printed in brackets by `description` (the shared `ModuleError` format).
    public var details: [String] {
        guard let libusbName, let libusbCode else { return [] }
        return ["\(libusbName) (\(libusbCode))"]
    }
}
