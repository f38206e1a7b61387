/// EPR_Request (data message 9): the RDO, then a copy of the PDO being requested.
public struct EPRRequest: Hashable, Sendable {
    public var request: RequestDataObject
    public var requestedObject: UInt32

    public init(request: RequestDataObject, requestedObject: UInt32) {
        self.request = request
        self.requestedObject = requestedObject
    }

    /// The two data objects in order.
    public func encoded() throws(PowerError) -> [UInt32] { [try request.encoded(), requestedObject] }

    /// Decodes the two objects and checks the copy against the source's offer at that position.
    public init(objects: [UInt32], offered capabilities: SourceCapabilities) throws(PowerError) {
        guard objects.count == 2 else {
            throw PowerError(.malformedMessage, "EPR_Request carries 2 data objects, found \(objects.count)")
        }
        let position = Int(RequestDataObject.objectPosition(of: objects[0]))
        guard let offered = capabilities.object(at: position), let kind = PowerObjectKind(offered.object) else {
            throw PowerError(.invalidObjectPosition, "EPR_Request asks for position \(position), which holds no usable object")
        }
        guard offered.raw == objects[1] else {
            throw PowerError(
                .malformedMessage,
                "EPR_Request copy 0x\(String(objects[1], radix: 16)) differs from offered PDO \(position) 0x\(String(offered.raw, radix: 16))")
        }
        request = try RequestDataObject(raw: objects[0], requesting: kind)
        requestedObject = objects[1]
    }
}
