import CSon1kABI
import Foundation
import Logging
import Son1kPluginKit

/// The table of kernel functions every plugin receives at `init`. It is the same for all
/// plugins and lives for the process; the `ctx` argument tells which plugin is calling.
enum HostFunctions {
    // Immutable after initialisation; the pointer is only read.
    nonisolated(unsafe) static let table: UnsafePointer<son1k_host_api_t> = {
        let p = UnsafeMutablePointer<son1k_host_api_t>.allocate(capacity: 1)
        p.initialize(to: son1k_host_api_t(
            abi_version: UInt32(SON1K_ABI_MAJOR << 16 | SON1K_ABI_MINOR),
            struct_size: UInt32(MemoryLayout<son1k_host_api_t>.size),
            log: { ctx, level, msg, len in HostContext.from(ctx).log(level: level, borrowedString(msg, len)) },
            metric: { ctx, kind, name, nameLen, value, labels, labelsLen in
                let host = HostContext.from(ctx)
                host.kernel.metrics.recordPlugin(plugin: host.plugin.name, kind: kind, name: borrowedString(name, nameLen),
                                                 value: value, labels: borrowedString(labels, labelsLen))
            },
            config_get: { ctx, out in
                let host = HostContext.from(ctx)
                return host.answer(out) { host.plugin.config.bytes }
            },
            secret_get: { ctx, name, len, out in
                let host = HostContext.from(ctx)
                return host.answer(out) { try host.secret(borrowedString(name, len)) }
            },
            db_exec: { ctx, txn, sql, sqlLen, params, paramsLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) { try host.dbExec(txn: txn, sql: borrowedString(sql, sqlLen), params: host.sqlParams(params, paramsLen)) }
            },
            db_query: { ctx, txn, sql, sqlLen, params, paramsLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) { try host.dbQuery(txn: txn, sql: borrowedString(sql, sqlLen), params: host.sqlParams(params, paramsLen)) }
            },
            db_begin: { ctx, txn, out in
                let host = HostContext.from(ctx)
                return host.answer(out) { txn?.pointee = try host.dbBegin(.serializable); return [] }
            },
            db_commit: { ctx, txn, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    try host.kernel.transactions.commit(txn, by: host.plugin.name)
                    return []
                }
            },
            db_rollback: { ctx, txn in
                let host = HostContext.from(ctx)
                return host.answer(nil) {
                    try host.kernel.transactions.rollback(txn, by: host.plugin.name)
                    return []
                }
            },
            publish: { ctx, txn, kind, topic, topicLen, payload, payloadLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    try host.publish(txn: txn, kind: kind, topic: borrowedString(topic, topicLen),
                                     payload: host.parseJSON(payload, payloadLen, what: "the event payload"))
                }
            },
            call: { ctx, service, serviceLen, input, inputLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    let name = borrowedString(service, serviceLen)
                    if name.hasPrefix("kernel.") { return try host.kernel.callKernelService(name, input: borrowedBytes(input, inputLen)) }
                    return try host.kernel.plugins.callService(name, input: borrowedBytes(input, inputLen), caller: host.plugin.name)
                }
            },
            http_fetch: { ctx, request, requestLen, body, bodyLen, outMeta, outBody in
                let host = HostContext.from(ctx)
                var responseBody: [UInt8] = []
                let status = host.answer(outMeta) {
                    let spec = try host.parseJSON(request, requestLen, what: "the HTTP request")
                    let (meta, bytes) = try host.kernel.egress.fetch(spec, body: borrowedBytes(body, bodyLen), allowedHosts: host.plugin.egressHosts)
                    responseBody = bytes
                    return meta
                }
                outBody?.pointee = hostBuffer(responseBody)
                return status
            },
            blob_put: { ctx, meta, metaLen, data, dataLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    let m = try host.parseJSON(meta, metaLen, what: "the blob metadata")
                    let info = try host.kernel.blobs.put(borrowedBytes(data, dataLen), contentType: m["content_type"].string ?? "application/octet-stream",
                                                         ownerID: m["owner_id"].string, isPublic: m["public"].bool ?? false, plugin: host.plugin.name)
                    return Array(try JSONEncoder().encode(info))
                }
            },
            blob_get: { ctx, id, idLen, outMeta, outData in
                let host = HostContext.from(ctx)
                var bytes: [UInt8] = []
                let status = host.answer(outMeta) {
                    let (record, data) = try host.kernel.blobs.read(borrowedString(id, idLen))
                    bytes = data
                    return Array(try JSONEncoder().encode(record.info))
                }
                outData?.pointee = hostBuffer(bytes)
                return status
            },
            blob_delete: { ctx, id, idLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    try host.kernel.blobs.delete(borrowedString(id, idLen))
                    return []
                }
            },
            schedule: { ctx, every, topic, topicLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    try host.kernel.scheduler.schedule(every: Int(every), topic: borrowedString(topic, topicLen), publisher: host.plugin.name)
                    return []
                }
            },
            now_ms: { ctx in HostContext.from(ctx).kernel.clock.nowMs() },
            free_buffer: { buffer in
                guard let buffer else { return }
                free(buffer.pointee.data)
                buffer.pointee = son1k_buffer_t(data: nil, len: 0)
            },
            response_stream: { ctx, id, head, headLen, data, dataLen in
                let host = HostContext.from(ctx)
                guard let stream = host.kernel.streams.get(id), stream.plugin == host.plugin.name else { return Int32(SON1K_ERR_NOT_FOUND) }
                var parsed: ResponseStream.Head?
                if let head, headLen > 0 {
                    guard let json = try? host.parseJSON(head, headLen, what: "the response head"), let status = json["status"].int,
                          (200...599).contains(status) else { return Int32(SON1K_ERR_INVALID) }
                    let headers = (json["headers"].object ?? [:]).compactMap { name, value in value.string.map { (name, $0) } }
                    parsed = ResponseStream.Head(status: status, headers: headers)
                }
                do {
                    try stream.write(head: parsed, data: borrowedBytes(data, dataLen))
                    return Int32(SON1K_OK)
                } catch ResponseStream.WriteError.clientGone {
                    return Int32(SON1K_ERR_FAILED)
                } catch {
                    return Int32(SON1K_ERR_INVALID)
                }
            },
            http_fetch_stream: { ctx, request, requestLen, body, bodyLen, onBody, user, outMeta in
                let host = HostContext.from(ctx)
                return host.answer(outMeta) {
                    let spec = try host.parseJSON(request, requestLen, what: "the HTTP request")
                    guard let onBody else { throw PluginError(status: 400, code: "invalid_callback", detail: "http_fetch_stream needs on_body.") }
                    return try host.kernel.egress.fetchStreaming(spec, body: borrowedBytes(body, bodyLen), allowedHosts: host.plugin.egressHosts) { meta, piece in
                        meta.withUnsafeBufferPointer { m in
                            m.withMemoryRebound(to: CChar.self) { m in
                                onBody(user, m.baseAddress, m.count, piece.baseAddress?.assumingMemoryBound(to: UInt8.self), piece.count) == 0
                            }
                        }
                    }
                }
            },
            queue: { ctx, txn, op, opLen, request, requestLen, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    let r = requestLen > 0 ? try host.parseJSON(request, requestLen, what: "the queue request") : [:]
                    return try host.kernel.jobs.perform(borrowedString(op, opLen), r, txn: txn, plugin: host.plugin).bytes
                }
            },
            db_dialect: { ctx in
                HostContext.from(ctx).kernel.storage.dialect == SQLDialect.postgres.rawValue ? HostFunctions.dialectName(HostFunctions.postgres) : HostFunctions.dialectName(HostFunctions.sqlite)
            },
            db_begin_isolated: { ctx, level, txn, out in
                let host = HostContext.from(ctx)
                return host.answer(out) {
                    guard let isolation = Isolation(rawValue: level) else {
                        throw PluginError.invalid("isolation", "must be \(SON1K_ISOLATION_SERIALIZABLE) (serializable) or \(SON1K_ISOLATION_READ_COMMITTED) (read committed), not \(level).")
                    }
                    txn?.pointee = try host.dbBegin(isolation)
                    return []
                }
            }
        ))
        return UnsafePointer(p)
    }()

    // The names `db_dialect` returns: static, NUL-terminated, valid for the process.
    static let sqlite: StaticString = "sqlite"
    static let postgres: StaticString = "postgres"
    static func dialectName(_ name: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

extension HostContext {
    func log(level: Int32, _ message: String) {
        switch Int(level) {
        case SON1K_LOG_DEBUG: logger.debug("\(message)")
        case SON1K_LOG_WARNING: logger.warning("\(message)")
        case SON1K_LOG_ERROR: logger.error("\(message)")
        default: logger.info("\(message)")
        }
    }

    func secret(_ name: String) throws -> [UInt8] {
        guard plugin.secretFields.contains(name) else {
            throw PluginError(status: 404, code: "secret_not_found", detail: "'\(name)' is not a secret field of this plugin's config.")
        }
        return Array((plugin.config[name].string ?? "").utf8)
    }

    /// `db_begin` and `db_begin_isolated`: a transaction only this plugin may end.
    func dbBegin(_ isolation: Isolation) throws -> UInt64 {
        try OpenTransactions.refuseWriteOutsideTransaction()
        return try kernel.transactions.begin(by: plugin.name, isolation: isolation)
    }

    func dbExec(txn: UInt64, sql: String, params: [SQLValue]) throws -> [UInt8] {
        try checkPrefix(sql)
        if txn == 0 { try OpenTransactions.refuseWriteOutsideTransaction() }
        let changes = txn == 0 ? try kernel.storage.execute(sql, params) : try kernel.transactions.get(txn).execute(sql, params)
        return Array(#"{"changes":\#(changes.changes),"last_insert_id":\#(changes.lastInsertID)}"#.utf8)
    }

    func dbQuery(txn: UInt64, sql: String, params: [SQLValue]) throws -> [UInt8] {
        try checkPrefix(sql)
        return txn == 0 ? try kernel.storage.queryJSON(sql, params) : try kernel.transactions.get(txn).queryJSON(sql, params)
    }

    func publish(txn: UInt64, kind: Int32, topic: String, payload: JSONValue) throws -> [UInt8] {
        guard EventBus.isValidTopic(topic) else {
            throw PluginError(status: 400, code: "invalid_topic", detail: "Topic '\(topic)' must look like plugin.noun_verb.")
        }
        let userID = payload["user_id"].string
        let data = payload["data"]
        if txn == 0 { try OpenTransactions.refuseWriteOutsideTransaction() }
        if Int(kind) == SON1K_EVENT_HOOK {
            // Nothing subscribes: since ABI 1.3 an empty answer says "unchanged", which spares
            // both sides encoding and decoding the payload again inside the writer's transaction.
            if plugin.abiMinor >= 3, !kernel.events.hasHookSubscribers(topic) { return [] }
            let result = try kernel.events.publishHook(topic: topic, userID: userID, data: data, txn: txn, publisher: plugin.name)
            return (["data": result] as JSONValue).bytes
        }
        let id = try kernel.events.publishAction(topic: topic, userID: userID, data: data, txn: txn, publisher: plugin.name)
        return (["id": .string(id)] as JSONValue).bytes
    }
}
