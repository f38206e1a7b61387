/// One metadata key-value pair, as stored in the file.
public struct GGUFMetadataEntry: Sendable, Hashable {
    public var key: String
    public var value: GGUFValue

    public init(key: String, value: GGUFValue) {
        self.key = key
        self.value = value
    }
}
