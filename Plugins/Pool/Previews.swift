import Foundation
import Son1kAudio
import Son1kPluginKit

/// The excerpt anyone may hear of a song they have not claimed (`preview_url`): at most 20 s,
/// mono at 16 kHz, its own blob, so its URL never leads to the full file.
///
/// Made on the kernel's job queue, enqueued in the transaction that adds the item: a
/// delivery that rolls back leaves no job and no blob, and a failed attempt is retried. A song
/// that is not a WAV file (a remote engine's MP3) gets no preview, and says so in the log.
struct Previews {
    let ctx: Context<PoolPlugin.Config>

    /// The longest excerpt, in seconds.
    static let maxSeconds = 20.0
    static let sampleRate = 16_000

    /// Ask for the item's preview (once per item: the unique key finds a pending one).
    func request(_ itemID: String, in tx: Database? = nil) throws {
        try ctx.jobs.enqueue(PreviewJob(itemId: itemID), options: .init(maxAttempts: 5, uniqueKey: "preview:\(itemID)"), in: tx)
    }

    /// The worker of ``DropPreviewJob``: a blob already gone counts as done.
    func drop(_ job: Job<DropPreviewJob>) throws {
        do { try ctx.blobs.delete(job.args.blobId) } catch let error as PluginError where error.status == 404 {}
    }

    /// Items added before previews existed get theirs; one call at start-up.
    func backfill() throws {
        let missing = try ctx.db.query("SELECT id FROM pool_items WHERE preview_blob_id IS NULL AND withdrawn_at IS NULL")
        for row in missing { if let id = row["id"].string { try request(id) } }
    }

    /// The worker: excerpt, store, record. A second run of the same job finds the preview
    /// recorded and stops; a blob stored by a run that lost the race is deleted again.
    func make(_ job: Job<PreviewJob>) throws {
        guard let row = try ctx.db.query("SELECT audio_blob_id, contributor_id, preview_blob_id FROM pool_items WHERE id = ?",
                                          [.text(job.args.itemId)]).first,
              row["preview_blob_id"].isNull, let source = row["audio_blob_id"].string else { return }
        let song: (info: BlobInfo, bytes: [UInt8])
        do { song = try ctx.blobs.get(source) } catch let error as PluginError where error.status == 404 {
            return  // the song was deleted before its preview was made: nothing to preview
        }
        guard let excerpt = AudioPreview.excerpt(of: song.bytes, maxSeconds: Self.maxSeconds, sampleRate: Self.sampleRate) else {
            ctx.log.info("no preview for pool item \(job.args.itemId): its audio is \(song.info.contentType), not a WAV file")
            return
        }
        let preview = try ctx.blobs.put(excerpt, contentType: "audio/wav", ownerID: row["contributor_id"].string)
        let recorded = try ctx.db.transaction { tx in
            let changes = try tx.exec("UPDATE pool_items SET preview_blob_id = ? WHERE id = ? AND preview_blob_id IS NULL",
                                      [.text(preview.id), .text(job.args.itemId)]).changes
            try job.complete(in: tx)
            return changes == 1
        }
        if !recorded { try ctx.blobs.delete(preview.id) }
    }
}

/// The queue's job that makes one item's preview.
struct PreviewJob: JobArgs {
    static let kind = "preview"
    var itemId: String
}

/// The queue's job that deletes the preview of a deleted song.
struct DropPreviewJob: JobArgs {
    static let kind = "drop_preview"
    var blobId: String
}
