/// The `store:` block: where team mode finds its database and whether artifacts are encrypted.
///
/// The file only ever names where secrets are: the database URL is read from the environment
/// variable `urlEnv` (a URL in the file would put its password in the repository), and the artifact
/// key comes from a reference like a secret's.
public struct StoreSettings: Sendable, Equatable {
    public static let defaultURLEnv = "TOLLGATE_DATABASE_URL"
    /// Where the artifact key is read when `key` is not given.
    public static let defaultKeyReference = SecretReference.environment("TOLLGATE_ARTIFACT_KEY")

    /// The name of the environment variable that holds the database URL (`url_env`).
    public var urlEnv: Located<String>
    /// Where the artifact key (32 bytes, base64) is read from (`key`); nil means `defaultKeyReference`.
    public var key: Located<SecretReference>?
    /// Whether release bundles and plan files are sealed before they are stored (`encrypt_artifacts`).
    public var encryptArtifacts: Located<Bool>
    /// Where the block starts in the pipeline file.
    public var location: SourceLocation?

    public init(
        urlEnv: Located<String> = Located(StoreSettings.defaultURLEnv),
        key: Located<SecretReference>? = nil,
        encryptArtifacts: Located<Bool> = Located(true),
        location: SourceLocation? = nil
    ) {
        self.urlEnv = urlEnv
        self.key = key
        self.encryptArtifacts = encryptArtifacts
        self.location = location
    }

    /// The reference the artifact key is resolved from: `key`, or `TOLLGATE_ARTIFACT_KEY`.
    public var keyReference: SecretReference { key?.value ?? Self.defaultKeyReference }
}
