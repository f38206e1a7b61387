/// The type byte of a frame. An open set: a decoder can carry a type it does not know, and the
/// session answers it with `ErrorCode.unknownType`.
public struct FrameType: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    // Host to device (requests).
    public static let hello = FrameType(0x01)
    public static let info = FrameType(0x02)
    public static let tokenize = FrameType(0x03)
    public static let detokenize = FrameType(0x04)
    public static let generate = FrameType(0x05)
    public static let embed = FrameType(0x06)
    public static let cancel = FrameType(0x07)
    public static let power = FrameType(0x08)
    public static let ping = FrameType(0x09)
    public static let chat = FrameType(0x0A)

    // Device to host (replies, stream items, notifications).
    public static let helloReply = FrameType(0x81)
    public static let modelCard = FrameType(0x82)
    public static let tokens = FrameType(0x83)
    public static let text = FrameType(0x84)
    public static let token = FrameType(0x85)
    public static let embeddings = FrameType(0x86)
    public static let promptToken = FrameType(0x87)
    public static let powerStatus = FrameType(0x88)
    public static let pong = FrameType(0x89)
    public static let done = FrameType(0x8E)
    public static let error = FrameType(0xFF)

    /// Types a host may send.
    public static let requests: Set<FrameType> = [
        .hello, .info, .tokenize, .detokenize, .generate, .embed, .cancel, .power, .ping, .chat,
    ]
    /// Types a device may send.
    public static let replies: Set<FrameType> = [
        .helloReply, .modelCard, .tokens, .text, .token, .embeddings, .promptToken, .powerStatus, .pong, .done, .error,
    ]

    public var name: String {
        switch self {
        case .hello: "HELLO"
        case .info: "INFO"
        case .tokenize: "TOKENIZE"
        case .detokenize: "DETOKENIZE"
        case .generate: "GENERATE"
        case .embed: "EMBED"
        case .cancel: "CANCEL"
        case .power: "POWER"
        case .ping: "PING"
        case .chat: "CHAT"
        case .helloReply: "HELLO_REPLY"
        case .modelCard: "MODEL_CARD"
        case .tokens: "TOKENS"
        case .text: "TEXT"
        case .token: "TOKEN"
        case .embeddings: "EMBEDDINGS"
        case .promptToken: "PROMPT_TOKEN"
        case .powerStatus: "POWER_STATUS"
        case .pong: "PONG"
        case .done: "DONE"
        case .error: "ERROR"
        default: "UNKNOWN"
        }
    }

    /// Looks a type up by its PROTOCOL.md name ("GENERATE"); nil if unknown.
    public init?(name: String) {
        guard let match = (FrameType.requests.union(FrameType.replies)).first(where: { $0.name == name }) else {
            return nil
        }
        self = match
    }

    public var description: String {
        let hex = String(rawValue, radix: 16, uppercase: true)
        return "\(name)(0x\(hex.count == 1 ? "0" + hex : hex))"
    }
}
