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
        // The job queue (Jobs/). Times are milliseconds since the epoch. The partial indexes
        // keep leasing (due jobs of a queue, most urgent first) and reaping (running jobs)
        // cheap however many finished jobs wait for pruning; on PostgreSQL the same lease
        // query takes `FOR UPDATE SKIP LOCKED`.
        .init(2, """
            CREATE TABLE kernel_jobs (
                id TEXT PRIMARY KEY,
                plugin TEXT NOT NULL,
                queue TEXT NOT NULL,
                kind TEXT NOT NULL,
                args TEXT NOT NULL,
                owner_id TEXT,
                state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'completed', 'failed', 'timeout', 'cancelled')),
                priority INTEGER NOT NULL DEFAULT 0,
                run_at BIGINT NOT NULL,
                attempt INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                postponements INTEGER NOT NULL DEFAULT 0,
                max_postponements INTEGER NOT NULL,
                timeout_ms BIGINT NOT NULL,
                heartbeat_timeout_ms BIGINT NOT NULL,
                backoff_base_ms BIGINT NOT NULL,
                unique_key TEXT,
                lease_id TEXT,
                worker TEXT,
                leased_at BIGINT,
                heartbeat_at BIGINT,
                progress DOUBLE PRECISION,
                result TEXT,
                error TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT
            );
            CREATE UNIQUE INDEX kernel_jobs_unique ON kernel_jobs (queue, unique_key) WHERE unique_key IS NOT NULL;
            CREATE INDEX kernel_jobs_due ON kernel_jobs (queue, priority DESC, run_at, id) WHERE state = 'queued';
            CREATE INDEX kernel_jobs_running ON kernel_jobs (leased_at) WHERE state = 'running';
            CREATE INDEX kernel_jobs_owner ON kernel_jobs (plugin, owner_id, created_at, id);
            CREATE INDEX kernel_jobs_finished ON kernel_jobs (finished_at) WHERE finished_at IS NOT NULL;
            """),
        // What several instances on one database must share: settings generated once (the
        // JWT signing secret), when each scheduled action is next due (one instance,
        // whichever, publishes it each period), and which process published each action.
        .init(3, """
            CREATE TABLE kernel_settings (
                name TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE kernel_schedules (
                publisher TEXT NOT NULL,
                topic TEXT NOT NULL,
                next_at INTEGER NOT NULL,
                PRIMARY KEY (publisher, topic)
            );
            ALTER TABLE kernel_events ADD COLUMN origin TEXT;
            """),
        // What users show others (UserProfileStore); their counters come from plugins.
        .init(4, """
            CREATE TABLE kernel_profiles (
                user_id TEXT PRIMARY KEY REFERENCES kernel_users (id) ON DELETE CASCADE,
                display_name TEXT,
                bio TEXT,
                avatar_blob_id TEXT,
                updated_at TEXT NOT NULL
            );
            """),
        // Accounts (Identity/): revocable sign-in sessions (every user JWT names one), the
        // one-time links mailed for a password reset or an e-mail verification (only their
        // hash is kept), and which API tokens are users' personal keys.
        .init(5, """
            CREATE TABLE kernel_sessions (
                id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES kernel_users (id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                last_used_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT,
                user_agent TEXT,
                ip TEXT
            );
            CREATE INDEX kernel_sessions_user ON kernel_sessions (user_id, id);
            CREATE TABLE kernel_account_links (
                token_hash TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES kernel_users (id) ON DELETE CASCADE,
                purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
                email TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                used_at TEXT
            );
            CREATE INDEX kernel_account_links_user ON kernel_account_links (user_id, purpose);
            ALTER TABLE kernel_users ADD COLUMN email_verified_at TEXT;
            ALTER TABLE kernel_tokens ADD COLUMN personal INTEGER NOT NULL DEFAULT 0;
            """),
    ]

    /// PostgreSQL's own additions (applied after ``migrations``, ledgered as `kernel_postgres`):
    /// the id of the transaction that wrote each action, which ``OutboxTail`` reads by.
    static let postgresMigrations: [Migration] = [
        .init(1, """
            ALTER TABLE kernel_events ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id();
            CREATE INDEX kernel_events_tx ON kernel_events (tx_id, id);
            """),
    ]
}
