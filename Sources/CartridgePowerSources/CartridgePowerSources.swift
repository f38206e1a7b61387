// The CartridgePowerSources module. See README.md for the layout.
