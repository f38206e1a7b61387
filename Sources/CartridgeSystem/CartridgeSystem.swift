// The CartridgeSystem module. See README.md for the layout.
