// The CartridgeUSBHost module. See README.md for the layout.
