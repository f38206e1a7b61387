// The CartridgeImage module. See README.md for the layout.
