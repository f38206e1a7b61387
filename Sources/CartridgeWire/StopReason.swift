/// Why a GENERATE stream ended (u8 in DONE). An open set.
public struct StopReason: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    public static let maximumTokens = StopReason(0)
    /// The model produced end-of-sequence (or beginning-of-sequence, as llama2.c stops on it).
    public static let endOfSequence = StopReason(1)
    public static let stopSequence = StopReason(2)
    /// The host sent CANCEL (or went away).
    public static let cancelled = StopReason(3)
    /// The model's context is full.
    public static let contextFull = StopReason(4)
    /// The daemon is shutting down.
    public static let shutdown = StopReason(5)
    /// The host did not read the stream's frames within the device's stall timeout; the
    /// generation slot was given back (the host sees this DONE once it reads again).
    public static let stalled = StopReason(6)

    public static let all: [StopReason] = [
        .maximumTokens, .endOfSequence, .stopSequence, .cancelled, .contextFull, .shutdown, .stalled,
    ]

    public var name: String {
        switch self {
        case .maximumTokens: "max_tokens"
        case .endOfSequence: "end_of_sequence"
        case .stopSequence: "stop_sequence"
        case .cancelled: "cancelled"
        case .contextFull: "context_full"
        case .shutdown: "shutdown"
        case .stalled: "stalled"
        default: "unknown_\(rawValue)"
        }
    }

    public init?(name: String) {
        guard let match = StopReason.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    public var description: String { name }
}
