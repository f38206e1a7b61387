/// A source power data object at its 1-based object position, with what was found odd about it.
public struct OfferedObject: Hashable, Sendable, CustomStringConvertible {
    public var position: Int
    public var raw: UInt32
    public var object: PowerDataObject
    public var issues: [PowerDataIssue]

    public init(position: Int, raw: UInt32, object: PowerDataObject, issues: [PowerDataIssue]) {
        self.position = position
        self.raw = raw
        self.object = object
        self.issues = issues
    }

    /// False when an issue makes the object unusable.
    public var isTrusted: Bool { !issues.contains { $0.severity == .untrusted } }

    /// Whether the object sits in an EPR position (8...11 of EPR_Source_Capabilities).
    public var isEPRPosition: Bool { position >= SourceCapabilities.firstEPRPosition }

    public var description: String { object.description }
}
