/// Where an error was created, for diagnostics (`#fileID:#line`).
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var fileID: String
    public var line: Int

    public init(fileID: String, line: Int) {
        self.fileID = fileID
        self.line = line
    }

    /// The caller's location: `SourceLocation.here()` records the file and line it is written on.
    public static func here(fileID: String = #fileID, line: Int = #line) -> SourceLocation {
        SourceLocation(fileID: fileID, line: line)
    }

    public var description: String { "\(fileID):\(line)" }
}
