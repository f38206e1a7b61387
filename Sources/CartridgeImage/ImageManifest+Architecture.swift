extension ImageManifest {
    /// Refuses a manifest of another family or architecture than an adapter builds.
    func require(family: String, architecture: String) throws(ImageError) {
        guard self.family == family, self.architecture == architecture else {
            throw ImageError(
                .manifestMismatch, "the image holds a \(self.family)/\(self.architecture) model, not \(family)/\(architecture)")
        }
    }

    /// The `hparam.<key>` value, or a `malformedManifest` error naming it.
    func hyperparameter(_ key: String) throws(ImageError) -> Int {
        guard let value = hyperparameters[key] else { throw ImageError(.malformedManifest, "manifest lacks hparam.\(key)") }
        return value
    }
}
