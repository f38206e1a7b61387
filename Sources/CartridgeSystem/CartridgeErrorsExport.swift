// SourceLocation moved to CartridgeErrors (the dependency-free error skeleton); re-exported so
// that code importing CartridgeSystem keeps seeing it, and `ModuleError` with it.
@_exported import CartridgeErrors
