/// A cartridge arrived on or left the bus.
public enum USBHotplugEvent: Sendable, Hashable, CustomStringConvertible {
    case arrived(CartridgeDeviceInfo)
    case left(CartridgeDeviceInfo)

    public var device: CartridgeDeviceInfo {
        switch self {
        case .arrived(let device), .left(let device): device
        }
    }

    public var description: String {
        switch self {
        case .arrived(let device): "arrived \(device)"
        case .left(let device): "left \(device)"
        }
    }
}

extension USBHotplugEvent {
    public var isArrival: Bool {
        if case .arrived = self { return true }
        return false
    }
}
