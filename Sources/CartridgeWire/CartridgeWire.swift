// The CartridgeWire module. See README.md for the layout.
