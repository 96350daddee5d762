import VolumeCore

/// A header oddity that does not stop reading, as nibabel's header checks report them.
public struct HeaderWarning: Sendable, Equatable, CustomStringConvertible {
    /// The field concerned, e.g. "qfac" or "magic".
    public var field: String
    /// What is odd about it and what voxterm does.
    public var message: String
    public var description: String { "\(field): \(message)" }
}

extension NIfTIHeader {
    /// Checks that must pass before any data is read: rank, dimensions, datatype, offset
    /// (in a single file the data cannot start inside the header). Throws a `NIfTIError` naming the field.
    func validateForReading(path: String, singleFile: Bool) throws {
        guard (1...7).contains(dim[0]) else {
            throw NIfTIError(path, "dim[0] is \(dim[0]); the number of dimensions must be 1 to 7")
        }
        for i in 1...dim[0] where dim[i] <= 0 {
            throw NIfTIError(path, "dim[\(i)] is \(dim[i]); every dimension must be at least 1")
        }
        guard let dt = datatype else {
            throw NIfTIError(path, "datatype \(datatypeCode) is not a NIfTI datatype code")
        }
        guard dt.isSupported else {
            throw NIfTIError(path, "datatype \(dt) (\(datatypeCode)) is not supported; voxterm reads real-valued images only (convert RGB/complex data first)")
        }
        guard voxelCountChecked != nil, byteCountChecked != nil else {
            throw NIfTIError(path, "dim \(shape) describes more voxels than can be addressed")
        }
        guard voxOffset.isFinite, voxOffset >= 0, voxOffset < 1e15 else {
            throw NIfTIError(path, "vox_offset \(voxOffset) is not a valid byte offset")
        }
        if singleFile && voxOffset < Double(sizeofHdr) {
            throw NIfTIError(path, "vox_offset \(Int(voxOffset)) lies inside the \(sizeofHdr)-byte header; the data must follow it")
        }
    }

    /// Why the header's geometry cannot be used, naming the field, or nil when it can: a NaN or
    /// infinite `pixdim[1...3]`, a non-finite entry in a declared sform (`srow_*`) or qform
    /// (`quatern_*`, `qoffset_*`), or a chosen affine (`bestAffine`) that is singular or out of
    /// range (`GeometryValidation`). The text is "FIELD REASON", e.g. "srow_x[2] is nan".
    ///
    /// Readers refuse such files unless `NIfTIReadLimits.requireUsableGeometry` is off (`info`).
    public var geometryProblem: String? {
        let rows = ["srow_x", "srow_y", "srow_z"]
        for i in 1...3 where !pixdim[i].isFinite {
            return "pixdim[\(i)] is \(pixdim[i]); voxel sizes must be finite numbers"
        }
        if !isAnalyze && sformCode > 0 {
            for r in 0..<3 { for c in 0..<4 where !srow[r][c].isFinite {
                return "\(rows[r])[\(c)] is \(srow[r][c]) (sform_code \(sformCode)); the sform must be finite"
            } }
        }
        if !isAnalyze && qformCode > 0 {
            for (name, v) in zip(["quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z"],
                                 [quaternion.x, quaternion.y, quaternion.z, qoffset.x, qoffset.y, qoffset.z]) where !v.isFinite {
                return "\(name) is \(v) (qform_code \(qformCode)); the qform must be finite"
            }
        }
        let (affine, source) = bestAffine
        guard let p = GeometryValidation.problem(with: affine) else { return nil }
        switch source {
        case .sform: return "sform (srow_x/y/z, sform_code \(sformCode)) \(p)"
        case .qform: return "qform (quatern_b/c/d, qoffset, pixdim, qform_code \(qformCode)) \(p)"
        case .pixdim:
            return isAnalyze ? "pixdim (Analyze voxel sizes and origin) \(p)"
                : "pixdim (voxel sizes; no sform or qform) \(p)"
        }
    }

    /// Throws the `NIfTIError` of `geometryProblem`, if any.
    func validateGeometry(path: String) throws {
        if let p = geometryProblem {
            throw NIfTIError(path, "\(p): the image geometry is unusable (voxterm info shows the header)")
        }
    }

    /// b² + c² + d² of the stored quaternion (1 - a²); above 1 the quaternion is not a unit one.
    var quaternionNormSquared: Double { (quaternion * quaternion).sum() }

    /// Product of the dimensions, or nil on overflow.
    var voxelCountChecked: Int? {
        var n = 1
        for i in 1...max(1, min(dim[0], 7)) {
            let (p, o) = n.multipliedReportingOverflow(by: dim[i])
            if o { return nil }
            n = p
        }
        return n
    }

    /// Bytes of image data, or nil on overflow.
    var byteCountChecked: Int? {
        guard let n = voxelCountChecked, let dt = datatype else { return nil }
        let (p, o) = n.multipliedReportingOverflow(by: dt.byteCount)
        return o ? nil : p
    }

    /// Non-fatal oddities: magic, qfac, bitpix, vox_offset, pixdim, disagreeing sform and qform.
    public func warnings(singleFile: Bool) -> [HeaderWarning] {
        var w: [HeaderWarning] = []
        let expectedMagic = version == 2 ? (singleFile ? "n+2" : "ni2") : (singleFile ? "n+1" : "ni1")
        if isAnalyze {
            w.append(HeaderWarning(field: "magic", message: "is \"\(magic.debugEscaped)\", not a NIfTI magic: read as Analyze 7.5 (no qform/sform; voxel sizes from pixdim, x flipped, origin from SPM's originator or the centre)"))
        } else if magic != expectedMagic {
            w.append(HeaderWarning(field: "magic", message: "is \"\(magic.debugEscaped)\", expected \"\(expectedMagic)\"; read as NIfTI-\(version)"))
        }
        if !isAnalyze && pixdim[0] != 1 && pixdim[0] != -1 {
            w.append(HeaderWarning(field: "qfac", message: "pixdim[0] is \(pixdim[0]), should be 1 or -1; taken as \(Int(qfac))"))
        }
        if let dt = datatype, bitpix != dt.byteCount * 8 {
            w.append(HeaderWarning(field: "bitpix", message: "is \(bitpix), datatype \(dt) has \(dt.byteCount * 8); the datatype is used"))
        }
        if singleFile {
            if voxOffset < Double(sizeofHdr + 4) {
                w.append(HeaderWarning(field: "vox_offset", message: "is \(voxOffset), less than \(sizeofHdr + 4) (header + extension flag)"))
            } else if voxOffset.truncatingRemainder(dividingBy: 16) != 0 {
                w.append(HeaderWarning(field: "vox_offset", message: "is \(voxOffset), not a multiple of 16 as the standard asks"))
            }
        }
        for i in 1...min(max(rank, 1), 3) where pixdim[i] < 0 {
            w.append(HeaderWarning(field: "pixdim[\(i)]", message: "is negative (\(pixdim[i])); the absolute value is used"))
        }
        if !isAnalyze && qformCode > 0 && sformCode > 0 {
            let d = qformAffine.maxDifference(to: sformAffine)
            if d > 1e-3 {
                w.append(HeaderWarning(field: "sform/qform", message: "disagree by up to \(formatted(d)) (affine entries); the sform is used"))
            }
        }
        if !isAnalyze && qformCode == 0 && sformCode == 0 {
            w.append(HeaderWarning(field: "qform_code/sform_code", message: "both 0: no orientation stored; using voxel sizes only (nibabel's centred affine)"))
        }
        // nibabel refuses b² + c² + d² > 1 beyond 3 float32 epsilons (fillpositive's threshold);
        // nifti1_io (ITK, ANTs, FSL) normalises, and so does voxterm.
        if !isAnalyze && qformCode > 0 && quaternionNormSquared.isFinite && quaternionNormSquared > 1 + 3 * Double(Float.ulpOfOne) {
            w.append(HeaderWarning(field: "quatern_b/c/d", message: "b² + c² + d² is \(formatted(quaternionNormSquared)), above 1: not a unit quaternion (nibabel refuses this header); normalised as nifti1_io does (a 180° rotation)"))
        }
        if sclSlope.isNaN || sclSlope.isInfinite {
            w.append(HeaderWarning(field: "scl_slope", message: "is \(sclSlope); no scaling applied"))
        }
        return w
    }
}

private func formatted(_ v: Double) -> String {
    let s = (v * 10000).rounded() / 10000
    return "\(s)"
}

extension String {
    var debugEscaped: String {
        String(unicodeScalars.map { $0.isASCII && $0.value >= 32 && $0.value < 127 ? Character($0) : "?" })
    }
}
