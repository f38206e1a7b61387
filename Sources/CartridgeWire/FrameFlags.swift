/// The 16-bit flags field of a frame header. Undefined bits are sent as zero and ignored on receipt.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// POWER only: keep the request open and send a POWER_STATUS whenever the budget changes,
    /// until the host CANCELs the request id.
    public static let subscribe = FrameFlags(rawValue: 1 << 0)
}
