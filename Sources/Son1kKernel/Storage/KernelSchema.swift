import Son1kPluginKit

/// The kernel's own tables (`kernel_*`), migrated like a plugin's.
enum KernelSchema {
    static let migrations: [Migration] = [
        .init(1, """
            CREATE TABLE kernel_users (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                username TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
                created_at TEXT NOT NULL
            );
            CREATE TABLE kernel_tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('user', 'admin', 'worker')),
                user_id TEXT REFERENCES kernel_users (id) ON DELETE CASCADE,
                secret_hash TEXT NOT NULL,
                created_at TEXT NOT NULL,
                last_used_at TEXT,
                revoked_at TEXT
            );
            CREATE TABLE kernel_events (
                id TEXT PRIMARY KEY,
                topic TEXT NOT NULL,
                publisher TEXT NOT NULL,
                user_id TEXT,
                occurred_at TEXT NOT NULL,
                data TEXT NOT NULL
            );
            CREATE TABLE kernel_deliveries (
                event_id TEXT NOT NULL REFERENCES kernel_events (id) ON DELETE CASCADE,
                subscriber TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                last_error TEXT,
                delivered_at TEXT,
                PRIMARY KEY (event_id, subscriber)
            );
            CREATE INDEX kernel_deliveries_due ON kernel_deliveries (status, next_attempt_at);
            CREATE TABLE kernel_blobs (
                id TEXT PRIMARY KEY,
                owner_id TEXT,
                plugin TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                public INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            );
            CREATE INDEX kernel_blobs_sha256 ON kernel_blobs (sha256);
            """),
    ]
}
