/// Something odd about an offered object or a capabilities list. `untrusted` issues make the
/// policy skip the object; `note`s are reported and the affected bits ignored.
public struct PowerDataIssue: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: Hashable, Sendable {
        /// Reported; the object is still used (e.g. reserved bits set, which are masked off).
        case note
        /// The object is impossible or not allowed here and is not used.
        case untrusted
    }

    public var severity: Severity
    /// 1-based object position, nil for issues of the whole list.
    public var position: Int?
    public var message: String

    public init(_ severity: Severity, position: Int?, _ message: String) {
        self.severity = severity
        self.position = position
        self.message = message
    }

    public var description: String {
        let prefix = position.map { "PDO \($0): " } ?? ""
        return prefix + message + (severity == .untrusted ? " (not used)" : "")
    }
}
