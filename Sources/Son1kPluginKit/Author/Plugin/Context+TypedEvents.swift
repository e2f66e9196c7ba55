/// Publishing and calling with declared types (``Topic``, ``Service``).
extension Context {
    /// Publish a typed action: recorded in the outbox inside `tx` (delivered once it commits)
    /// or on its own when `tx` is nil. Returns the event id.
    @discardableResult
    public func publishAction<P>(_ topic: Topic<P>, _ payload: P, userID: String? = nil, in tx: Database? = nil) throws -> String {
        try publishAction(topic.name, payload, userID: userID, in: tx)
    }

    /// Publish a typed hook; returns the payload as the subscribers left it.
    @discardableResult
    public func publishHook<P>(_ topic: Topic<P>, _ payload: P, userID: String? = nil, in tx: Database? = nil) throws -> P {
        // No subscriber changed it (the kernel answers nothing): the payload as it was.
        guard let after = try publishHookIfChanged(topic.name, payload, userID: userID, in: tx) else { return payload }
        do { return try JSONValueDecoder.decode(P.self, from: after) } catch let error as DecodingError {
            throw PluginError(status: 500, code: "hook_payload_invalid", detail: "A subscriber of \(topic.name) left a payload that does not fit: \(BodyDecoder.describe(error))")
        }
    }

    /// Call a typed service of another plugin.
    public func call<I, O>(_ service: Service<I, O>, _ input: I) throws -> O {
        let answer = try call(service.name, input)
        do { return try JSONValueDecoder.decode(O.self, from: answer) } catch let error as DecodingError {
            throw PluginError(status: 502, code: "service_answer_invalid", detail: "\(service.name) answered something that does not fit: \(BodyDecoder.describe(error))")
        }
    }
}
