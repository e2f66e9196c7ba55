import ArgumentParser
import Son1kKernel

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a deployment's SQLite database (and blob contents) into PostgreSQL.",
        discussion: """
            The target is migrated first: the kernel's and every plugin's migrations that --config \
            enables. Then users, tokens, the outbox, the job queue, blob records and every plugin's \
            tables are copied in one transaction: all of it or nothing. Rows are matched by primary \
            key, so running the copy again changes nothing. A target that already has users is \
            refused unless --into-non-empty is given.

            Blob contents are uploaded when the target's blob store (kernel.blobs in --config) is \
            not the source's folder: an S3 bucket for several instances. Stop the source's server \
            first, or copy a backup (sqlite3 son1k.db ".backup copy.db"). Not `migrate`, which \
            applies schema migrations to one database.

              son1k copy --from sqlite:data/son1k.db --to postgres://son1k:secret@db:5432/son1k
            """
    )
    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("The SQLite database to copy: sqlite:PATH or PATH.", valueName: "sqlite:path"))
    var from: String

    @Option(help: ArgumentHelp("The PostgreSQL database to copy into.", valueName: "postgres-url"))
    var to: String

    @Option(help: ArgumentHelp("The source's blob folder (default: blobs/ beside the database).", valueName: "path"))
    var blobs: String?

    @Flag(help: "Copy into a target that already holds users: rows with the source's keys take the source's values; the others stay.")
    var intoNonEmpty = false

    func run() throws {
        let report: DeploymentCopy.Report
        do {
            report = try DeploymentCopy(from: from, to: to, blobs: blobs, config: try options.load(), logger: Logs.quiet())
                .run(intoNonEmpty: intoNonEmpty)
        } catch {
            say("copy failed: \(error)")
            throw ExitCode(1)
        }
        for table in report.tables { say("\(table.name): \(table.rows) rows") }
        for table in report.skipped { say("\(table): skipped (no such table on the target; is its plugin enabled in --config?)") }
        say("blob contents: \(report.blobsUploaded) uploaded\(report.blobsMissing > 0 ? ", \(report.blobsMissing) missing from the source folder" : "")")
        say("copied \(report.tables.reduce(0) { $0 + $1.rows }) rows in \(report.tables.count) tables")
    }
}
