// The CartridgeDaemon module. See README.md for the layout.
