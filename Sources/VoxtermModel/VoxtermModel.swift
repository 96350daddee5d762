// The model core as one import: volumes, NIfTI I/O, registration, segmentation and the pipelines
// both front ends call, no UI. Re-exports only; logic lives in the modules (docs/architecture.md).
@_exported import VolumeCore
@_exported import NIfTI
@_exported import ImageIO
@_exported import Registration
@_exported import Segmentation
@_exported import Pipelines
