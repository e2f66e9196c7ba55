import Foundation
import Son1kPluginKit

/// Speaks one synthesis job on a kernel worker thread: the engine renders (reporting progress,
/// which keeps the lease), the audio becomes a blob, and the row's audio and the job's
/// completion commit together — a job that lost its lease meanwhile (timed out) stores
/// nothing.
struct SynthesisWorker {
    let ctx: Context<VoicePlugin.Config>
    let engines: [String: any VoiceEngine]

    func run(_ job: Job<Synthesis>) throws {
        guard let row = try VoiceJobs(ctx: ctx).get(job.args.voiceJobId) else {
            throw JobError.fail("The voice job \(job.args.voiceJobId) no longer exists.", retryable: false)
        }
        let request = try row.job
        guard let engine = engines[row.engine] else { throw JobError.fail("No engine \(row.engine) here.", retryable: false) }
        guard let profile = try Profiles(ctx: ctx).find(row.profileId, for: row.userId) else {
            throw JobError.fail("The voice profile was deleted.", retryable: false)
        }
        let started = Date()
        let samples: [Float], rate: Int
        do {
            (samples, rate) = try engine.synthesize(request, profile: profile) { try? job.progress($0) }
        } catch VoiceEngineError.postponed(let reason, let after) {
            throw JobError.postpone(after: after, reason: reason)
        } catch VoiceEngineError.failed(let reason, let retryable) {
            throw JobError.fail(reason, retryable: retryable)
        }
        let format = AudioFormat(rawValue: request.format) ?? .wav
        let audio = try format.encode(samples, rate: rate)
        let seconds = Date().timeIntervalSince(started)
        let spoken = Double(samples.count) / Double(rate)
        let measured = VoiceFeatures.measure(samples, rate: rate)?.view
        let output = SynthesisOutput(durationS: (spoken * 100).rounded() / 100, renderS: (seconds * 1000).rounded() / 1000, sampleRate: rate,
                                     realtimeFactor: (spoken / max(seconds, 0.001) * 10).rounded() / 10, medianF0Hz: measured?.medianF0Hz,
                                     meanF0Hz: measured?.meanF0Hz, speakingRate: measured?.speakingRate)
        let blob = try ctx.blobs.put(audio, contentType: format.contentType, ownerID: row.userId, isPublic: false)
        do {
            try ctx.db.transaction { tx in
                try tx.exec("UPDATE voice_jobs SET audio_blob_id = ?, audio_size = ?, content_type = ?, output = ? WHERE id = ?",
                            [.text(blob.id), .int(Int64(blob.size)), .text(format.contentType),
                             .text(try JSONValueEncoder.encode(output).jsonString), .text(row.id)])
                try job.complete(in: tx)
            }
        } catch {
            try? ctx.blobs.delete(blob.id)
            throw error
        }
        ctx.metrics.observe("synthesis_seconds", seconds, labels: ["engine": row.engine])
    }
}
