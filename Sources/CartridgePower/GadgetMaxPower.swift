/// The gadget configuration's bMaxPower: units of 2 mA at USB 2.0 (max 500 mA) and 8 mA at
/// SuperSpeed (max 900 mA, so 896 mA after rounding down, as the Linux gadget does).
public struct GadgetMaxPower: Hashable, Sendable {
    public var speed: USBSpeed
    /// The descriptor byte.
    public var descriptorValue: UInt8

    /// The largest bMaxPower not above `milliamps` (clamped to the speed's maximum).
    public init(milliamps: UInt32, speed: USBSpeed) {
        self.speed = speed
        let clamped = min(milliamps, Self.maximumMilliamps(speed))
        descriptorValue = UInt8(clamped / Self.unitMilliamps(speed))
    }

    public init(descriptorValue: UInt8, speed: USBSpeed) {
        self.speed = speed
        self.descriptorValue = descriptorValue
    }

    /// The current the descriptor declares.
    public var milliamps: UInt32 { UInt32(descriptorValue) * Self.unitMilliamps(speed) }

    public static func unitMilliamps(_ speed: USBSpeed) -> UInt32 { speed == .high ? 2 : 8 }
    public static func maximumMilliamps(_ speed: USBSpeed) -> UInt32 { speed == .high ? 500 : 900 }
}
