/// The code carried by an ERROR frame (u16). An open set: unknown codes decode and print as such.
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Bytes that are not a frame (bad magic); the receiver resynchronizes on the next magic.
    public static let malformedFrame = ErrorCode(1)
    /// Header version, or HELLO version range, not supported.
    public static let unsupportedVersion = ErrorCode(2)
    /// Payload length above the negotiated maximum; the payload was skipped.
    public static let payloadTooLarge = ErrorCode(3)
    /// A frame type the device does not know, or one a host may not send.
    public static let unknownType = ErrorCode(4)
    /// The payload does not decode as the message its type announces.
    public static let malformedPayload = ErrorCode(5)
    /// A request other than HELLO or PING arrived before a successful HELLO.
    public static let handshakeRequired = ErrorCode(6)
    /// The request id is 0 or already in use by a request in flight.
    public static let invalidRequestID = ErrorCode(7)
    /// Too many requests in flight (on this connection or on the device); retry later.
    public static let busy = ErrorCode(8)
    /// The cartridge's model cannot do this (e.g. EMBED on a decoder-only cartridge).
    public static let unsupported = ErrorCode(9)
    /// A field holds a value outside its range (token id beyond the vocabulary, empty input...).
    public static let invalidArgument = ErrorCode(10)
    /// The prompt does not fit in the model's context.
    public static let contextOverflow = ErrorCode(11)
    /// The device failed internally; the connection remains usable.
    public static let internalError = ErrorCode(12)
    /// The daemon is shutting down; no new requests are accepted.
    public static let shuttingDown = ErrorCode(13)

    public static let all: [ErrorCode] = [
        .malformedFrame, .unsupportedVersion, .payloadTooLarge, .unknownType, .malformedPayload, .handshakeRequired,
        .invalidRequestID, .busy, .unsupported, .invalidArgument, .contextOverflow, .internalError, .shuttingDown,
    ]

    public var name: String {
        switch self {
        case .malformedFrame: "MALFORMED_FRAME"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .payloadTooLarge: "PAYLOAD_TOO_LARGE"
        case .unknownType: "UNKNOWN_TYPE"
        case .malformedPayload: "MALFORMED_PAYLOAD"
        case .handshakeRequired: "HANDSHAKE_REQUIRED"
        case .invalidRequestID: "INVALID_REQUEST_ID"
        case .busy: "BUSY"
        case .unsupported: "UNSUPPORTED"
        case .invalidArgument: "INVALID_ARGUMENT"
        case .contextOverflow: "CONTEXT_OVERFLOW"
        case .internalError: "INTERNAL_ERROR"
        case .shuttingDown: "SHUTTING_DOWN"
        default: "UNKNOWN_\(rawValue)"
        }
    }

    public init?(name: String) {
        guard let match = ErrorCode.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { "\(name)(\(rawValue))" }
}
