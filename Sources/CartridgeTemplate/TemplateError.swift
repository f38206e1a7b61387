public import CartridgeErrors

/// An error from parsing or rendering a chat template.
///
/// Parse errors (unknown tag, filter, test or function; bad syntax; unclosed blocks) are thrown by
/// `ChatTemplate.init(source:)`, so a template can be vetted once, ahead of any chat. Render errors
/// (the template's own `raise_exception`, type errors, undefined values, limits) are thrown by `render`.
public struct TemplateError: ModuleError, Hashable {
    /// The kind of failure. An open set: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Kind: Hashable, Sendable {
            case syntax, unknownTag, unknownFilter, unknownTest, unknownFunction, unclosedBlock
            case nestingTooDeep, undefined, type, raised, limitExceeded, invalidJSON
        }
        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        /// The template text is not valid Jinja (bad token, unexpected token, unterminated tag or string).
        public static let syntax = Code(.syntax)
        /// A `{% tag %}` this interpreter does not know (or that Hugging Face's environment does not enable).
        public static let unknownTag = Code(.unknownTag)
        /// A `| filter` this interpreter does not know.
        public static let unknownFilter = Code(.unknownFilter)
        /// An `is test` this interpreter does not know.
        public static let unknownTest = Code(.unknownTest)
        /// A call of a global function or method this interpreter does not know.
        public static let unknownFunction = Code(.unknownFunction)
        /// A block (`for`, `if`, `macro`, ...) or comment without its end tag.
        public static let unclosedBlock = Code(.unclosedBlock)
        /// The template nests statements or expressions (or macro calls, or data) deeper than the limit.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// An undefined value was used where Jinja raises `UndefinedError` (e.g. `x.y` with `x` undefined).
        public static let undefined = Code(.undefined)
        /// An operation on values of the wrong type (Python's `TypeError`/`ValueError`).
        public static let type = Code(.type)
        /// The template called `raise_exception(message)`; `message` is the template's text.
        public static let raised = Code(.raised)
        /// The output size or the number of loop iterations went over the limit.
        public static let limitExceeded = Code(.limitExceeded)
        /// `TemplateValue(json:)` was given text that is not JSON.
        public static let invalidJSON = Code(.invalidJSON)

        public var description: String {
            switch kind {
            case .syntax: "syntax"
            case .unknownTag: "unknownTag"
            case .unknownFilter: "unknownFilter"
            case .unknownTest: "unknownTest"
            case .unknownFunction: "unknownFunction"
            case .unclosedBlock: "unclosedBlock"
            case .nestingTooDeep: "nestingTooDeep"
            case .undefined: "undefined"
            case .type: "type"
            case .raised: "raised"
            case .limitExceeded: "limitExceeded"
            case .invalidJSON: "invalidJSON"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable message; for `.raised`, exactly the template's message.
    public var message: String
    /// 1-based line in the template source (or JSON text), when known.
    public var line: Int?
    /// 1-based column (in Unicode scalars), when known.
    public var column: Int?
    /// Where in this module's sources the error was made.
    public var location: SourceLocation

    public init(code: Code, message: String, line: Int? = nil, column: Int? = nil, fileID: String = #fileID, sourceLine: Int = #line) {
        self.code = code
        self.message = message
        self.line = line
        self.column = column
        self.location = SourceLocation(fileID: fileID, line: sourceLine)
    }

    /// The position in the template, `line:column`, when known.
    public var details: [String] {
        guard let line, let column else { return [] }
        return ["template \(line):\(column)"]
    }
}

/// A position in the template source, 1-based.
struct TemplatePosition: Sendable, Hashable {
    var line: Int
    var column: Int

    static let unknown = TemplatePosition(line: 0, column: 0)
}

extension TemplateError {
    init(_ code: Code, _ message: String, at position: TemplatePosition, fileID: String = #fileID, sourceLine: Int = #line) {
        if position.line > 0 {
            self.init(code: code, message: message, line: position.line, column: position.column, fileID: fileID, sourceLine: sourceLine)
        } else {
            self.init(code: code, message: message, fileID: fileID, sourceLine: sourceLine)
        }
    }
}
