/// The skeleton every module's error type shares: a code, a message, an optional cause and the
/// source location where the error was made. Each module keeps its own error type and its own
/// open set of codes (a struct of static lets); conforming gives them one way to print:
///
/// ```
/// TransportError.disconnected: receive from unix:/run/cartridge.sock#3 [CartridgeTransport/UnixSocketTransport.swift:82]
/// └─ Cause: SystemCallError.ECONNRESET: 'read' failed: Connection reset by peer [CartridgeSystem/SystemCall.swift:40]
/// ```
///
/// The first line is `Type.code: message`, then each of `details` in brackets, then the location;
/// the cause (itself possibly a tree) follows on the next line. This module has no dependencies
/// (no Foundation, no Glibc), so the pure cores can use it.
public protocol ModuleError: Error, Sendable, CustomStringConvertible {
    /// The module's open set of error codes; its description is the code's name.
    associatedtype Code: Hashable & Sendable & CustomStringConvertible

    /// The name printed before the code; defaults to the type's own name ("TransportError").
    static var typeName: String { get }
    /// What kind of failure.
    var code: Code { get }
    /// A sentence for people: what failed, on what.
    var message: String { get }
    /// The lower-level failure this one wraps (a `SystemCallError`, a libusb status, another
    /// module's error); nil by default.
    var cause: (any Error & Sendable)? { get }
    /// Where in the sources the error was made.
    var location: SourceLocation { get }
    /// Facts beyond the message that the description prints in brackets (a byte offset, a
    /// template line and column, a device error code); empty by default.
    var details: [String] { get }
}

extension ModuleError {
    public static var typeName: String { String(describing: Self.self) }

    public var cause: (any Error & Sendable)? { nil }

    public var details: [String] { [] }

    /// `Type.code: message [detail]... [fileID:line]`, then `└─ Cause: ...` on the next line when
    /// there is a cause (the cause's own lines indented under it).
    public var description: String {
        var text = "\(Self.typeName).\(code): \(message)"
        for detail in details { text += " [\(detail)]" }
        text += " [\(location)]"
        if let cause {
            let lines = "\(cause)".split(separator: "\n", omittingEmptySubsequences: false)
            text += "\n└─ Cause: " + lines.joined(separator: "\n   ")
        }
        return text
    }
}
