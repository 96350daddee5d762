import Foundation

/// NIfTI files whose header is readable but whose geometry is unusable (issue 13, class 1): every
/// command must refuse them up front naming the file and the field; `info` must still show them.
/// Each is made in a test from a committed fixture (`las.nii`: sform and qform code 1;
/// `qform_only_oblique.nii`: qform only).
public enum BadGeometry: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `srow_x[0]` NaN.
    case sformNaN
    /// All three sform rows zero with `sform_code` 1.
    case sformZeroRows
    /// `quatern_b` NaN in a qform-only file.
    case quaternionNaN
    /// `pixdim[2]` NaN.
    case pixdimNaN
    /// `pixdim[1]` +infinity.
    case pixdimInfinite
    /// `qoffset_y` -infinity in a qform-only file.
    case qoffsetInfinite

    public var description: String { rawValue }

    /// The file name made (also what the message must name).
    public var fileName: String { "geometry_\(rawValue).nii" }

    /// Words the error must contain: the field and the problem.
    public var expectedReason: String {
        switch self {
        case .sformNaN: "srow_x[0] is nan"
        case .sformZeroRows: "sform (srow_x/y/z, sform_code 1) is singular"
        case .quaternionNaN: "quatern_b is nan"
        case .pixdimNaN: "pixdim[2] is nan"
        case .pixdimInfinite: "pixdim[1] is inf"
        case .qoffsetInfinite: "qoffset_y is -inf"
        }
    }

    /// Writes the file into `dir`; returns its path.
    public func make(in dir: URL) throws -> String {
        let fixtures = BadNIfTI.fixtures
        var d: Data
        switch self {
        case .quaternionNaN, .qoffsetInfinite:
            d = try Data(contentsOf: fixtures.appendingPathComponent("qform_only_oblique.nii"))
        default:
            d = try Data(contentsOf: fixtures.appendingPathComponent("las.nii"))
        }
        switch self {
        case .sformNaN: d.put(Float.nan.bitPattern, at: 280)
        case .sformZeroRows: for k in 0..<12 { d.put(Float(0).bitPattern, at: 280 + 4 * k) }
        case .quaternionNaN: d.put(Float.nan.bitPattern, at: 256)
        case .pixdimNaN: d.put(Float.nan.bitPattern, at: 84)
        case .pixdimInfinite: d.put(Float.infinity.bitPattern, at: 80)
        case .qoffsetInfinite: d.put((-Float.infinity).bitPattern, at: 272)
        }
        let p = dir.appendingPathComponent(fileName).path
        try d.write(to: URL(fileURLWithPath: p))
        return p
    }

    /// A readable file with a non-unit quaternion (b = 1.2; nibabel refuses it, nifti1_io
    /// normalises it): read, with a warning on `quatern_b/c/d`.
    public static func makeNonUnitQuaternion(in dir: URL) throws -> String {
        var d = try Data(contentsOf: BadNIfTI.fixtures.appendingPathComponent("qform_only_oblique.nii"))
        d.put(Float(1.2).bitPattern, at: 256)
        d.put(Float(0).bitPattern, at: 260); d.put(Float(0).bitPattern, at: 264)
        let p = dir.appendingPathComponent("nonunit_quaternion.nii").path
        try d.write(to: URL(fileURLWithPath: p))
        return p
    }
}
