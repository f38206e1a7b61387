// Bit positions transcribed from Linux include/linux/usb/pd.h (torvalds/linux), used to build
// expected words the way the kernel's macros do. pd.h has no EPR/AVS definitions and its
// RDO_OBJ_POS_MASK is 0x7 (3 bits), so EPR positions 8...11 are checked against the PD 3.1 layout.
enum LinuxPD {
    static func BIT(_ n: UInt32) -> UInt32 { 1 << n }

    // PDO
    static let PDO_TYPE_SHIFT: UInt32 = 30
    static let PDO_TYPE_FIXED: UInt32 = 0, PDO_TYPE_BATT: UInt32 = 1, PDO_TYPE_VAR: UInt32 = 2, PDO_TYPE_APDO: UInt32 = 3
    static let PDO_FIXED_DUAL_ROLE = BIT(29), PDO_FIXED_SUSPEND = BIT(28), PDO_FIXED_EXTPOWER = BIT(27)
    static let PDO_FIXED_USB_COMM = BIT(26), PDO_FIXED_DATA_SWAP = BIT(25), PDO_FIXED_UNCHUNK_EXT = BIT(24)
    static let PDO_FIXED_PEAK_CURR_SHIFT: UInt32 = 20
    static let PDO_FIXED_VOLT_SHIFT: UInt32 = 10, PDO_FIXED_CURR_SHIFT: UInt32 = 0
    static let PDO_VOLT_MASK: UInt32 = 0x3ff, PDO_CURR_MASK: UInt32 = 0x3ff, PDO_PWR_MASK: UInt32 = 0x3ff
    static let PDO_BATT_MAX_VOLT_SHIFT: UInt32 = 20, PDO_BATT_MIN_VOLT_SHIFT: UInt32 = 10, PDO_BATT_MAX_PWR_SHIFT: UInt32 = 0
    static let PDO_VAR_MAX_VOLT_SHIFT: UInt32 = 20, PDO_VAR_MIN_VOLT_SHIFT: UInt32 = 10, PDO_VAR_MAX_CURR_SHIFT: UInt32 = 0
    static let PDO_APDO_TYPE_SHIFT: UInt32 = 28
    static let PDO_PPS_APDO_MAX_VOLT_SHIFT: UInt32 = 17, PDO_PPS_APDO_MIN_VOLT_SHIFT: UInt32 = 8, PDO_PPS_APDO_MAX_CURR_SHIFT: UInt32 = 0
    static let PDO_PPS_APDO_VOLT_MASK: UInt32 = 0xff, PDO_PPS_APDO_CURR_MASK: UInt32 = 0x7f

    static func PDO_FIXED(_ mv: UInt32, _ ma: UInt32, _ flags: UInt32) -> UInt32 {
        PDO_TYPE_FIXED << PDO_TYPE_SHIFT | flags | ((mv / 50) & PDO_VOLT_MASK) << PDO_FIXED_VOLT_SHIFT
            | ((ma / 10) & PDO_CURR_MASK) << PDO_FIXED_CURR_SHIFT
    }
    static func PDO_BATT(_ minMV: UInt32, _ maxMV: UInt32, _ maxMW: UInt32) -> UInt32 {
        PDO_TYPE_BATT << PDO_TYPE_SHIFT | ((minMV / 50) & PDO_VOLT_MASK) << PDO_BATT_MIN_VOLT_SHIFT
            | ((maxMV / 50) & PDO_VOLT_MASK) << PDO_BATT_MAX_VOLT_SHIFT | ((maxMW / 250) & PDO_PWR_MASK) << PDO_BATT_MAX_PWR_SHIFT
    }
    static func PDO_VAR(_ minMV: UInt32, _ maxMV: UInt32, _ maxMA: UInt32) -> UInt32 {
        PDO_TYPE_VAR << PDO_TYPE_SHIFT | ((minMV / 50) & PDO_VOLT_MASK) << PDO_VAR_MIN_VOLT_SHIFT
            | ((maxMV / 50) & PDO_VOLT_MASK) << PDO_VAR_MAX_VOLT_SHIFT | ((maxMA / 10) & PDO_CURR_MASK) << PDO_VAR_MAX_CURR_SHIFT
    }
    static func PDO_PPS_APDO(_ minMV: UInt32, _ maxMV: UInt32, _ maxMA: UInt32) -> UInt32 {
        PDO_TYPE_APDO << PDO_TYPE_SHIFT | 0 << PDO_APDO_TYPE_SHIFT
            | ((minMV / 100) & PDO_PPS_APDO_VOLT_MASK) << PDO_PPS_APDO_MIN_VOLT_SHIFT
            | ((maxMV / 100) & PDO_PPS_APDO_VOLT_MASK) << PDO_PPS_APDO_MAX_VOLT_SHIFT
            | ((maxMA / 50) & PDO_PPS_APDO_CURR_MASK) << PDO_PPS_APDO_MAX_CURR_SHIFT
    }

    // RDO
    static let RDO_OBJ_POS_SHIFT: UInt32 = 28, RDO_OBJ_POS_MASK: UInt32 = 0x7
    static let RDO_GIVE_BACK = BIT(27), RDO_CAP_MISMATCH = BIT(26), RDO_USB_COMM = BIT(25), RDO_NO_SUSPEND = BIT(24)
    static let RDO_PWR_MASK: UInt32 = 0x3ff
    static let RDO_FIXED_OP_CURR_SHIFT: UInt32 = 10, RDO_FIXED_MAX_CURR_SHIFT: UInt32 = 0
    static let RDO_BATT_OP_PWR_SHIFT: UInt32 = 10, RDO_BATT_MAX_PWR_SHIFT: UInt32 = 0
    static let RDO_PROG_VOLT_MASK: UInt32 = 0x7ff, RDO_PROG_VOLT_SHIFT: UInt32 = 9
    static let RDO_PROG_CURR_MASK: UInt32 = 0x7f, RDO_PROG_CURR_SHIFT: UInt32 = 0

    static func RDO_OBJ(_ idx: UInt32) -> UInt32 { (idx & RDO_OBJ_POS_MASK) << RDO_OBJ_POS_SHIFT }
    static func RDO_FIXED(_ idx: UInt32, _ opMA: UInt32, _ maxMA: UInt32, _ flags: UInt32) -> UInt32 {
        RDO_OBJ(idx) | flags | ((opMA / 10) & RDO_PWR_MASK) << RDO_FIXED_OP_CURR_SHIFT
            | ((maxMA / 10) & RDO_PWR_MASK) << RDO_FIXED_MAX_CURR_SHIFT
    }
    static func RDO_BATT(_ idx: UInt32, _ opMW: UInt32, _ maxMW: UInt32, _ flags: UInt32) -> UInt32 {
        RDO_OBJ(idx) | flags | ((opMW / 250) & RDO_PWR_MASK) << RDO_BATT_OP_PWR_SHIFT
            | ((maxMW / 250) & RDO_PWR_MASK) << RDO_BATT_MAX_PWR_SHIFT
    }
    static func RDO_PROG(_ idx: UInt32, _ outMV: UInt32, _ opMA: UInt32, _ flags: UInt32) -> UInt32 {
        RDO_OBJ(idx) | flags | ((outMV / 20) & RDO_PROG_VOLT_MASK) << RDO_PROG_VOLT_SHIFT
            | ((opMA / 50) & RDO_PROG_CURR_MASK) << RDO_PROG_CURR_SHIFT
    }

    // Header
    static func PD_HEADER(type: UInt32, power: UInt32, data: UInt32, rev: UInt32, id: UInt32, count: UInt32, ext: UInt32) -> UInt16 {
        UInt16((type & 0x1f) | (power & 1) << 8 | (data & 1) << 5 | (rev & 3) << 6 | (id & 7) << 9 | (count & 7) << 12 | (ext & 1) << 15)
    }
    static func PD_EXT_HDR(size: UInt32, request: UInt32, number: UInt32, chunked: UInt32) -> UInt16 {
        UInt16((size & 0x1ff) | (request & 1) << 10 | (number & 0xf) << 11 | (chunked & 1) << 15)
    }
}
