// The model core as one import: volumes, NIfTI I/O, registration and segmentation, no UI.
@_exported import VolumeCore
@_exported import NIfTI
@_exported import ImageIO
@_exported import Registration
@_exported import Segmentation
