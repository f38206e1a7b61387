public import CartridgeWire

/// One executable step of a script.
public indirect enum ConformanceStep: Sendable {
    case connect
    case disconnect
    /// Frames (or raw bytes) to write; all of them in one transport write, or in chunks of `split` bytes.
    case send(bytes: [UInt8], split: Int?)
    case expect(Expectation)
    /// TOKEN frames for `requestID` until DONE (or ERROR), then DONE's fields are checked.
    /// `firstIndex`: the index of the first TOKEN still to come (earlier ones were consumed by `expect`).
    case expectStream(requestID: UInt32, done: [FieldMatcher], minimumTokens: Int?, maximumTokens: Int?, firstIndex: Int)
    /// No frame at all arrives within the duration.
    case expectNothing(Duration)
    /// The device closes the connection.
    case expectClosed
    case wait(Duration)
    case repeatBlock(count: Int, steps: [ConformanceStep.Located])

    public struct Located: Sendable {
        public var step: ConformanceStep
        /// The step's source text, for the report.
        public var text: String
        public var location: String
    }

    public struct Expectation: Sendable {
        public var type: FrameType?
        public var requestID: UInt32?
        public var fields: [FieldMatcher]
    }
}

/// `key=value` in an expect line: equality, or `*` (present), `>=N`, `<=N`, `~text` (contains).
public struct FieldMatcher: Sendable, CustomStringConvertible {
    public var key: String
    public var expected: String

    public func matches(_ actual: String?) -> Bool {
        guard let actual else { return false }
        if expected == "*" { return true }
        if expected.hasPrefix(">="), let bound = Double(expected.dropFirst(2)), let value = Double(actual) { return value >= bound }
        if expected.hasPrefix("<="), let bound = Double(expected.dropFirst(2)), let value = Double(actual) { return value <= bound }
        if expected.hasPrefix("~") { return actual.contains(expected.dropFirst()) }
        return actual == expected
    }

    public var description: String { "\(key)=\(expected)" }
}
