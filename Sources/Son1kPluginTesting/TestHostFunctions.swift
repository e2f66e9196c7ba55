import CSon1kABI
import Foundation
import Son1kPluginKit

/// The host function table a ``TestHost`` hands its plugin: the same C interface the kernel
/// offers, answered in memory by the ``HostState`` behind `ctx`. The plugin's SDK code runs
/// unchanged; only the other side of the boundary is the test's.
enum TestHostFunctions {
    // Built once and only read afterwards.
    nonisolated(unsafe) static let table: UnsafePointer<son1k_host_api_t> = {
        let p = UnsafeMutablePointer<son1k_host_api_t>.allocate(capacity: 1)
        p.initialize(to: son1k_host_api_t(
            abi_version: UInt32(SON1K_ABI_MAJOR << 16 | SON1K_ABI_MINOR),
            struct_size: UInt32(MemoryLayout<son1k_host_api_t>.size),
            log: { ctx, level, msg, len in
                let line = LogLine(level: LogLine.Level(rawValue: level) ?? .info, message: text(msg, len))
                HostState.from(ctx).record.withLock { $0.logs.append(line) }
            },
            metric: { ctx, kind, name, nameLen, value, labels, labelsLen in
                let metric = RecordedMetric(kind: RecordedMetric.Kind(rawValue: kind) ?? .counter, name: text(name, nameLen),
                                            value: value, labels: text(labels, labelsLen))
                HostState.from(ctx).record.withLock { $0.metrics.append(metric) }
            },
            config_get: { ctx, out in answer(out) { HostState.from(ctx).configJSON.bytes } },
            secret_get: { ctx, name, len, out in answer(out) { try HostState.from(ctx).secret(text(name, len)) } },
            db_exec: { ctx, txn, sql, sqlLen, params, paramsLen, out in
                answer(out) {
                    let result = try HostState.from(ctx).database.execute(txn: txn, text(sql, sqlLen), try sqlParams(params, paramsLen))
                    return Array(#"{"changes":\#(result.changes),"last_insert_id":\#(result.lastInsertID)}"#.utf8)
                }
            },
            db_query: { ctx, txn, sql, sqlLen, params, paramsLen, out in
                answer(out) { JSONValue.array(try HostState.from(ctx).database.query(txn: txn, text(sql, sqlLen), try sqlParams(params, paramsLen))).bytes }
            },
            db_begin: { ctx, txn, out in
                answer(out) {
                    txn?.pointee = try HostState.from(ctx).database.begin()
                    return []
                }
            },
            db_commit: { ctx, txn, out in
                answer(out) {
                    let host = HostState.from(ctx)
                    try host.database.commit(txn)
                    host.committed(txn)
                    return []
                }
            },
            db_rollback: { ctx, txn in
                let host = HostState.from(ctx)
                host.database.rollback(txn)
                host.rolledBack(txn)
                return Int32(SON1K_OK)
            },
            publish: { ctx, txn, kind, topic, topicLen, payload, payloadLen, out in
                answer(out) { try HostState.from(ctx).publish(txn: txn, kind: kind, topic: text(topic, topicLen), payload: json(payload, payloadLen)).bytes }
            },
            call: { ctx, service, serviceLen, input, inputLen, out in
                answer(out) { try HostState.from(ctx).call(text(service, serviceLen), input: json(input, inputLen)).bytes }
            },
            http_fetch: { ctx, request, requestLen, body, bodyLen, outMeta, outBody in
                var responseBody: [UInt8] = []
                let status = answer(outMeta) {
                    let response = try HostState.from(ctx).fetch(try json(request, requestLen), body: bytes(body, bodyLen))
                    responseBody = response.body
                    return meta(response).bytes
                }
                outBody?.pointee = buffer(responseBody)
                return status
            },
            blob_put: { ctx, meta, metaLen, data, dataLen, out in
                answer(out) { HostState.from(ctx).putBlob(meta: try json(meta, metaLen), bytes: bytes(data, dataLen)).bytes }
            },
            blob_get: { ctx, id, idLen, outMeta, outData in
                var data: [UInt8] = []
                let status = answer(outMeta) {
                    let blob = try HostState.from(ctx).blob(text(id, idLen))
                    data = blob.bytes
                    return blob.meta.bytes
                }
                outData?.pointee = buffer(data)
                return status
            },
            blob_delete: { ctx, id, idLen, out in
                answer(out) {
                    try HostState.from(ctx).deleteBlob(text(id, idLen))
                    return []
                }
            },
            schedule: { ctx, every, topic, topicLen, out in
                answer(out) {
                    let schedule = Schedule(topic: text(topic, topicLen), everySeconds: Int(every))
                    HostState.from(ctx).record.withLock { $0.schedules.append(schedule) }
                    return []
                }
            },
            now_ms: { ctx in HostState.from(ctx).clock.nowMs },
            free_buffer: { buffer in
                guard let buffer else { return }
                free(buffer.pointee.data)
                buffer.pointee = son1k_buffer_t(data: nil, len: 0)
            },
            response_stream: { ctx, handle, head, headLen, data, dataLen in
                let parsedHead: JSONValue?
                if let head, headLen > 0 {
                    guard let value = try? json(head, headLen) else { return Int32(SON1K_ERR_INVALID) }
                    parsedHead = value
                } else {
                    parsedHead = nil
                }
                return HostState.from(ctx).stream(handle, head: parsedHead, data: bytes(data, dataLen))
            },
            http_fetch_stream: { ctx, request, requestLen, body, bodyLen, onBody, user, outMeta in
                answer(outMeta) {
                    let response = try HostState.from(ctx).fetch(try json(request, requestLen), body: bytes(body, bodyLen))
                    let metaText = meta(response).bytes
                    // The stub's whole body arrives as one piece.
                    _ = metaText.withUnsafeBufferPointer { m in
                        m.withMemoryRebound(to: CChar.self) { m in
                            response.body.withUnsafeBufferPointer { b in onBody?(user, m.baseAddress, m.count, b.baseAddress, b.count) }
                        }
                    }
                    return metaText
                }
            },
            queue: { ctx, _, op, opLen, request, requestLen, out in
                answer(out) { try HostState.from(ctx).queue(text(op, opLen), json(request, requestLen)).bytes }
            },
            // The test host's database is SQLite; statements that branch on the dialect are
            // tested for PostgreSQL against a kernel on PostgreSQL.
            db_dialect: { _ in TestHostFunctions.sqliteName },
            // SQLite, one writer: every level is serializable, as on the kernel's SQLite.
            db_begin_isolated: { ctx, level, txn, out in
                answer(out) {
                    guard Isolation(rawValue: level) != nil else { throw PluginError.invalid("isolation", "must be 0 or 1, not \(level).") }
                    txn?.pointee = try HostState.from(ctx).database.begin()
                    return []
                }
            }
        ))
        return UnsafePointer(p)
    }()

    private static let sqlite: StaticString = "sqlite"
    static var sqliteName: UnsafePointer<CChar> { UnsafeRawPointer(sqlite.utf8Start).assumingMemoryBound(to: CChar.self) }

    /// Run a host operation: its bytes into `out`, or the problem JSON and the status the
    /// kernel would return for it.
    static func answer(_ out: UnsafeMutablePointer<son1k_buffer_t>?, _ body: () throws -> [UInt8]) -> son1k_status_t {
        do {
            out?.pointee = buffer(try body())
            return Int32(SON1K_OK)
        } catch {
            let problem = error as? PluginError ?? PluginError(status: 500, code: "host_error", detail: "\(error)")
            out?.pointee = buffer(Array((try? JSONEncoder().encode(problem)) ?? Data()))
            return problem.hostStatus
        }
    }

    static func meta(_ response: HTTPClient.Response) -> JSONValue {
        ["status": .integer(Int64(response.status)), "headers": .object(response.headers.mapValues { .string($0) })]
    }

    static func sqlParams(_ p: UnsafePointer<CChar>?, _ len: Int) throws -> [SQLValue] {
        let value = try json(p, len)
        if value.isNull { return [] }
        guard let array = value.array else { throw PluginError(status: 400, code: "invalid_params", detail: "SQL parameters must be a JSON array.") }
        return array.map(SQLValue.init)
    }

    static func json(_ p: UnsafePointer<CChar>?, _ len: Int) throws -> JSONValue {
        guard p != nil, len > 0 else { return .null }
        do { return try JSONValue.parse(bytes(p, len)) } catch {
            throw PluginError(status: 400, code: "invalid_json", detail: "The plugin passed JSON that does not parse.")
        }
    }

    static func text(_ p: UnsafePointer<CChar>?, _ len: Int) -> String {
        String(decoding: bytes(p, len), as: UTF8.self)
    }

    static func bytes<T>(_ p: UnsafePointer<T>?, _ len: Int) -> [UInt8] {
        guard let p, len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: len))
    }

    /// A host-owned buffer, released by `free_buffer` above (malloc'd, as the SDK's own).
    static func buffer(_ bytes: [UInt8]) -> son1k_buffer_t { pluginBuffer(bytes) }
}
