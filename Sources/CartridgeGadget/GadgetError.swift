public import CartridgeErrors

/// Errors of the USB gadget side: configfs (libusbgx), the FunctionFS mount, ep0 and the UDC.
public struct GadgetError: ModuleError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case configfsUnavailable, gadgetSetup, functionFS, noController, permissionDenied, busy, invalidConfiguration, closed
        }
        private var base: Base
        private init(_ base: Base) { self.base = base }

        /// `/sys/kernel/config/usb_gadget` is missing: configfs not mounted or libcomposite not loaded.
        public static let configfsUnavailable = Code(.configfsUnavailable)
        /// Creating or changing the gadget in configfs failed; see `cause`.
        public static let gadgetSetup = Code(.gadgetSetup)
        /// Mounting FunctionFS, writing descriptors or endpoint I/O failed.
        public static let functionFS = Code(.functionFS)
        /// No USB device controller (UDC) to bind to, or the named one does not exist.
        public static let noController = Code(.noController)
        public static let permissionDenied = Code(.permissionDenied)
        /// The UDC is already used by another gadget.
        public static let busy = Code(.busy)
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The listener was closed.
        public static let closed = Code(.closed)

        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    public var location: SourceLocation

    public init(
        _ code: Code, _ message: String, cause: (any Error & Sendable)? = nil,
        fileID: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = SourceLocation(fileID: fileID, line: line)
    }
}

/// A libusbgx failure: the `usbg_error` value and its name.
public struct USBGadgetLibraryError: Error, Sendable, CustomStringConvertible {
    public var function: String
    public var code: Int32
    public var name: String

    public var description: String { "\(function) failed with \(name) (\(code))" }
}
