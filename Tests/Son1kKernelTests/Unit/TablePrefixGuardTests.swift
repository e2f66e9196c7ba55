import Son1kKernel
import Son1kPluginKit
import Testing

@Suite struct TablePrefixGuardTests {
    let guardrail = TablePrefixGuard(pluginName: "plays")

    @Test(arguments: [
        "CREATE TABLE plays_counts (generation_id TEXT PRIMARY KEY, plays INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS plays_x (a INT REFERENCES plays_counts(generation_id))",
        "INSERT INTO plays_counts VALUES (?, 1) ON CONFLICT (generation_id) DO UPDATE SET plays = plays_counts.plays + 1",
        "SELECT c.plays FROM plays_counts c JOIN plays_log l ON l.id = c.generation_id WHERE c.plays > 'FROM kernel_users'",
        "SELECT * FROM plays_a, plays_b AS b WHERE 1 -- FROM kernel_users",
        "WITH recent AS (SELECT * FROM plays_counts) SELECT * FROM recent",
        "SELECT value FROM json_each(?)",
        "CREATE UNIQUE INDEX plays_idx ON plays_counts (plays)",
        "UPDATE plays_counts SET plays = 0",
        "DELETE FROM plays_counts WHERE generation_id IN (SELECT generation_id FROM plays_log)",
        "ALTER TABLE plays_counts RENAME TO plays_totals",
    ])
    func allowsTheOwnersTables(_ sql: String) {
        #expect(guardrail.violation(in: sql) == nil, "\(sql)")
    }

    @Test(arguments: [
        "SELECT * FROM kernel_users",
        "DELETE FROM tiers_usage",
        "INSERT INTO kernel_events VALUES (1)",
        "UPDATE kernel_users SET role = 'admin'",
        "UPDATE OR IGNORE kernel_users SET role = 'admin'",
        "SELECT * FROM plays_counts JOIN kernel_tokens ON 1",
        "SELECT * FROM plays_a, kernel_users",
        "CREATE TABLE counts (a INT)",
        "CREATE INDEX plays_i ON kernel_users (email)",
        "SELECT * FROM main.kernel_users",
        "SELECT * FROM \"kernel_users\"",
        "ATTACH DATABASE 'x.db' AS x",
        "PRAGMA writable_schema = 1",
        "CREATE TRIGGER plays_t AFTER INSERT ON plays_counts BEGIN DELETE FROM plays_counts; END",
        "ALTER TABLE plays_counts RENAME TO kernel_x",
        "SELECT * FROM sqlite_master",
        "DROP TABLE tiers_usage",
    ])
    func refusesEverythingElse(_ sql: String) {
        #expect(guardrail.violation(in: sql) != nil, "\(sql)")
    }
}
