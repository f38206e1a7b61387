/// TOKENIZE (0x03), host to device: text to token ids. Reply: TOKENS.
public struct TokenizeRequest: WireMessage {
    public static let frameType = FrameType.tokenize
    public struct Options: OptionSet, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Prepend the beginning-of-sequence token.
        public static let addBeginning = Options(rawValue: 1 << 0)
        /// Append the end-of-sequence token.
        public static let addEnd = Options(rawValue: 1 << 1)
    }
    public var options: Options
    public var text: String

    public init(text: String, options: Options = []) {
        self.text = text
        self.options = options
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        options = Options(rawValue: try reader.readUInt8("options"))
        text = try reader.readString("text")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(options.rawValue)
        writer.write(text)
    }
}
