// The CartridgeInference module. See README.md for the layout.
