// The CartridgeClient module. See README.md for the layout.
