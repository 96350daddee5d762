import VolumeCore

/// Namespace of the registration engine (metrics, transforms, regularisers, optimisers, plans).
/// The engine itself is tracked in issue 4; this file only anchors the module.
public enum RegistrationModule {}
