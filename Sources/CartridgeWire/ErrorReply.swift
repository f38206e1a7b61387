/// ERROR (0xFF), device to host: a request failed, or (request id 0) the connection saw bad bytes.
public struct ErrorReply: WireMessage, Error {
    public static let frameType = FrameType.error
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public init(decoding reader: inout WireReader) throws(WireError) {
        code = ErrorCode(try reader.readUInt16("code"))
        message = try reader.readString("message")
    }

    public func encode(into writer: inout WireWriter) {
        writer.write(code.rawValue)
        writer.write(message)
    }
}
