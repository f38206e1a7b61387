public import CartridgeErrors

/// Everything that can go wrong reading or writing a GGUF file. Every reader error names the byte
/// offset in the file where the offending field starts, so a hostile or damaged file can be
/// diagnosed with a hex dump.
public struct GGUFError: ModuleError, Hashable {
    /// What kind of problem: an open set (a struct wrapping a private enum) so codes can be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case truncated, badMagic, unsupportedVersion, unknownValueType, unknownTensorType
            case countTooLarge, invalidDimensions, invalidRowLength, tensorOutOfBounds, misalignedTensor
            case duplicateTensorName, duplicateKey, nestingTooDeep, invalidAlignment, invalidValue
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file ends inside a field.
        public static let truncated = Code(.truncated)
        /// The first four bytes are not "GGUF".
        public static let badMagic = Code(.badMagic)
        /// A version other than 2 or 3 (v1 used 32-bit counts and is not read).
        public static let unsupportedVersion = Code(.unsupportedVersion)
        /// A metadata value type id that GGUF does not define.
        public static let unknownValueType = Code(.unknownValueType)
        /// A tensor type id this build does not know (`GGMLType.layout == nil`).
        public static let unknownTensorType = Code(.unknownTensorType)
        /// A count or length that cannot fit in the bytes left in the file.
        public static let countTooLarge = Code(.countTooLarge)
        /// Too many dimensions, a dimension above Int64.max, or an element/byte count that overflows.
        public static let invalidDimensions = Code(.invalidDimensions)
        /// A row length (`dimensions[0]`) that is not a whole number of the type's blocks.
        public static let invalidRowLength = Code(.invalidRowLength)
        /// A tensor whose data range does not lie inside the file.
        public static let tensorOutOfBounds = Code(.tensorOutOfBounds)
        /// A tensor offset that is not a multiple of the file's alignment.
        public static let misalignedTensor = Code(.misalignedTensor)
        /// Two tensor infos with the same name.
        public static let duplicateTensorName = Code(.duplicateTensorName)
        /// Two metadata entries with the same key.
        public static let duplicateKey = Code(.duplicateKey)
        /// Arrays nested deeper than `GGUFFile.maximumNestingDepth`.
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// `general.alignment` that is not a uint32 power of two greater than zero.
        public static let invalidAlignment = Code(.invalidAlignment)
        /// The writer was given a value it cannot encode (an array mixing element types).
        public static let invalidValue = Code(.invalidValue)

        public var description: String {
            switch value {
            case .truncated: "truncated"
            case .badMagic: "badMagic"
            case .unsupportedVersion: "unsupportedVersion"
            case .unknownValueType: "unknownValueType"
            case .unknownTensorType: "unknownTensorType"
            case .countTooLarge: "countTooLarge"
            case .invalidDimensions: "invalidDimensions"
            case .invalidRowLength: "invalidRowLength"
            case .tensorOutOfBounds: "tensorOutOfBounds"
            case .misalignedTensor: "misalignedTensor"
            case .duplicateTensorName: "duplicateTensorName"
            case .duplicateKey: "duplicateKey"
            case .nestingTooDeep: "nestingTooDeep"
            case .invalidAlignment: "invalidAlignment"
            case .invalidValue: "invalidValue"
            }
        }
    }

    public var code: Code
    /// A sentence naming the field and the offending value.
    public var message: String
    /// Byte offset in the file where the offending field starts (0 for writer errors).
    public var offset: Int
    public var location: SourceLocation

    public init(_ code: Code, _ message: String, offset: Int, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.offset = offset
        self.location = SourceLocation(fileID: fileID, line: line)
    }

    /// The byte offset, for a hex dump.
    public var details: [String] { ["at byte \(offset)"] }
}
