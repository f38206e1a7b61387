// The CartridgePower module. See README.md for the layout.
