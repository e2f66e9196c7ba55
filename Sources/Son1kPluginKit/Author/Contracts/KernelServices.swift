/// Services the kernel itself offers every plugin (names start with `kernel.`).
extension Service where Input == UserProfilesRequest, Output == UserProfiles {
    /// Public profiles of users, by id (at most 500 per call); unknown ids are left out.
    ///
    /// ```swift
    /// let names = try ctx.call(.userProfiles, UserProfilesRequest(userIds: ["u1"])).profiles.mapValues(\.username)
    /// ```
    public static let userProfiles = Service("kernel.users.profiles")
}

/// `kernel.users.profiles`'s input.
public struct UserProfilesRequest: Codable, Sendable, Equatable {
    /// At most 500 ids; unknown ones are left out of the answer.
    public var userIds: [String]
    /// Ask for these users.
    public init(userIds: [String]) { self.userIds = userIds }
}

/// `kernel.users.profiles`'s answer.
public struct UserProfiles: Codable, Sendable, Equatable {
    /// What anyone may see of a user.
    public struct Profile: Codable, Sendable, Equatable {
        /// The user's id.
        public var userId: String
        /// The name the user chose; unique.
        public var username: String
        /// The user's picture (`/api/users/{id}/avatar`: theirs, or a generated one).
        public var avatar: String?
        /// The name the user shows, when they set one.
        public var displayName: String?
        /// A profile as the kernel answers it.
        public init(userId: String, username: String, avatar: String? = nil, displayName: String? = nil) {
            self.userId = userId
            self.username = username
            self.avatar = avatar
            self.displayName = displayName
        }
    }

    /// By user id.
    public var profiles: [String: Profile]
    /// An answer holding these profiles.
    public init(profiles: [String: Profile]) { self.profiles = profiles }
}

extension Service where Input == BlobURLsRequest, Output == BlobURLs {
    /// Signed, expiring URLs of blobs (at most 500 per call) that a browser loads without an
    /// `Authorization` header: what an `<audio src>` needs. Whoever holds one may read the blob
    /// until it expires (`kernel.media.url_ttl_s`), so ask only after checking that the caller
    /// may read it. Blobs that do not exist are left out. ``Blobs/url(_:)`` is the short form.
    public static let blobURLs = Service("kernel.blobs.urls")
}

/// `kernel.blobs.urls`'s input.
public struct BlobURLsRequest: Codable, Sendable, Equatable {
    /// At most 500 blob ids.
    public var blobIds: [String]
    /// Ask for these blobs.
    public init(blobIds: [String]) { self.blobIds = blobIds }
}

/// `kernel.blobs.urls`'s answer.
public struct BlobURLs: Codable, Sendable, Equatable {
    /// Signed URL by blob id; absolute when the deployment sets `kernel.public_url`.
    public var urls: [String: String]
    /// An answer holding these URLs.
    public init(urls: [String: String]) { self.urls = urls }
}
