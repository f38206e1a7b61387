// The CartridgeConformance module. See README.md for the layout.
