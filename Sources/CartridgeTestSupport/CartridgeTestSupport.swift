// The CartridgeTestSupport module. See README.md for the layout.
