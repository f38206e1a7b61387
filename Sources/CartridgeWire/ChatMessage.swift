/// One turn of a CHAT conversation: `str role`, `str content`.
public struct ChatMessage: Hashable, Sendable {
    public var role: String
    public var content: String

    /// The roles a CHAT may use; anything else is INVALID_ARGUMENT.
    public static let roles: Set<String> = ["system", "user", "assistant"]

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
