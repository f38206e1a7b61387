/// A tensor and its canonical name (see `LlamaWeights` for the names).
public struct NamedTensor: Sendable {
    public var name: String
    public var tensor: TensorView

    public init(name: String, tensor: TensorView) {
        self.name = name
        self.tensor = tensor
    }
}
