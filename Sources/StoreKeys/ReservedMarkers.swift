/// What the store drivers put into the keys of unfinished writes: FileStore's temporary files
/// (`<key>.partial-<random>`), S3Store's abandoned multipart uploads (listed as
/// `<key>.upload-<upload id>`). No object may be written under a key holding one, and no stack
/// name or manifest path may hold one, or a finished object would be taken for a leftover.
///
/// They live here, below both users, because two layers must agree on them: the drivers
/// (SnapshotStore) make and recognise them, and the snapshot format (SnapshotFormat, pure, no
/// store code) refuses names that contain them. Neither should import the other for it.
public enum ReservedMarkers {
    public static let partial = ".partial-"
    public static let upload = ".upload-"
    public static let all = [partial, upload]
}
