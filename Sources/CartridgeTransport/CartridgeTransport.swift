// The CartridgeTransport module. See README.md for the layout.
