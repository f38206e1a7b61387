/// Everything a power source adapter (sysfs, scripted file, configuration) knows at one moment.
/// Raw PDO words go in unchanged; the policy decodes and judges them, so every adapter takes the
/// same path.
public struct PowerSnapshot: Hashable, Sendable {
    /// Human name of the source: "pd1 (port0-partner)", "45W charger", "static".
    public var sourceName: String
    /// A partner (charger, host port) is attached.
    public var isAttached: Bool
    /// Source_Capabilities / EPR_Source_Capabilities in object-position order (index 0 = PDO 1).
    public var sourceCapabilities: [UInt32]
    /// The Type-C current advertisement (Rp), nil when unknown (no Type-C port).
    public var typeCCurrent: TypeCCurrent?
    public var usbSpeed: USBSpeed
    /// bMaxPower the host accepted when it configured the gadget (mA), if known.
    public var usbConfiguredMilliamps: UInt32?
    public var cable: CableCapability
    /// A power_supply class reading (e.g. tcpm-source-psy-*), if present.
    public var supply: SupplyReading?
    /// A fixed budget from configuration; overrides everything else.
    public var staticBudgetMilliwatts: UInt32?
    /// Problems the adapter met reading the source (malformed files, missing attributes).
    public var problems: [String]

    public init(
        sourceName: String, isAttached: Bool = true, sourceCapabilities: [UInt32] = [],
        typeCCurrent: TypeCCurrent? = nil, usbSpeed: USBSpeed = .high, usbConfiguredMilliamps: UInt32? = nil,
        cable: CableCapability = .unknown, supply: SupplyReading? = nil, staticBudgetMilliwatts: UInt32? = nil,
        problems: [String] = []
    ) {
        self.sourceName = sourceName
        self.isAttached = isAttached
        self.sourceCapabilities = sourceCapabilities
        self.typeCCurrent = typeCCurrent
        self.usbSpeed = usbSpeed
        self.usbConfiguredMilliamps = usbConfiguredMilliamps
        self.cable = cable
        self.supply = supply
        self.staticBudgetMilliwatts = staticBudgetMilliwatts
        self.problems = problems
    }
}

/// The Type-C source current advertisement at 5 V.
public enum TypeCCurrent: Hashable, Sendable, CustomStringConvertible {
    /// Default USB power: 500 mA (USB 2.0) or 900 mA (USB 3.x).
    case usbDefault
    case current1500
    case current3000
    /// An explicit PD contract exists; Rp no longer states a budget (it toggles for collision avoidance).
    case powerDelivery

    public var description: String {
        switch self {
        case .usbDefault: "default USB"
        case .current1500: "1.5A"
        case .current3000: "3.0A"
        case .powerDelivery: "USB PD"
        }
    }
}

/// The speed of the gadget's link, which sets default current and bMaxPower units.
public enum USBSpeed: Hashable, Sendable {
    /// USB 2.0 (low/full/high speed): 500 mA default, bMaxPower in 2 mA units.
    case high
    /// USB 3.x SuperSpeed: 900 mA default, bMaxPower in 8 mA units.
    case superSpeed

    public var defaultMilliamps: UInt32 { self == .high ? 500 : 900 }
}

/// What the cable is known to carry.
public struct CableCapability: Hashable, Sendable {
    public var maximumMilliamps: UInt32
    /// An e-marked EPR cable (50 V, 5 A).
    public var isEPRCapable: Bool

    public init(maximumMilliamps: UInt32, isEPRCapable: Bool = false) {
        self.maximumMilliamps = maximumMilliamps
        self.isEPRCapable = isEPRCapable
    }

    /// Unknown cable: every Type-C cable carries 3 A.
    public static let unknown = CableCapability(maximumMilliamps: 3000)
    /// E-marked 5 A cable (SPR).
    public static let fiveAmp = CableCapability(maximumMilliamps: 5000)
    /// E-marked EPR cable: 50 V, 5 A.
    public static let epr = CableCapability(maximumMilliamps: 5000, isEPRCapable: true)
}

/// A power_supply class reading (values converted from µV / µA).
public struct SupplyReading: Hashable, Sendable {
    public var isOnline: Bool
    /// "C", "PD", "PD_PPS", ... (the selected entry of `usb_type`), if given.
    public var usbType: String?
    public var maximumMillivolts: UInt32?
    public var maximumMilliamps: UInt32?

    public init(isOnline: Bool, usbType: String? = nil, maximumMillivolts: UInt32? = nil, maximumMilliamps: UInt32? = nil) {
        self.isOnline = isOnline
        self.usbType = usbType
        self.maximumMillivolts = maximumMillivolts
        self.maximumMilliamps = maximumMilliamps
    }
}
