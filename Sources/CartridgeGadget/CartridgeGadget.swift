// The CartridgeGadget module. See README.md for the layout.
