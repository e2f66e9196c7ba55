/// Subscriptions and services that declare their payload types (``Topic``, ``Service``).
extension Registry {
    /// Subscribe to an action whose payload is `P`: called with it decoded, after the
    /// publisher committed, at least once per event id — exactly once when `transactional`
    /// (inside the delivery's transaction; see ``onAction(_:transactional:_:)``).
    public mutating func onAction<P>(_ topic: Topic<P>, transactional: Bool = false, isolation: Isolation = .serializable,
                                     _ handler: @escaping @Sendable (TypedEvent<P>, Context<Config>) throws -> Void) {
        onAction(topic.name, transactional: transactional, isolation: isolation) { event, ctx in try handler(try event.typed(P.self), ctx) }
    }

    /// Subscribe to a hook whose payload is `P`: run inside the publisher's transaction; return
    /// `.replace(payload)` to change it, throw a ``PluginError`` to veto. `P` must hold every
    /// field of the payload, since a replacement takes the whole payload's place.
    public mutating func onHook<P>(_ topic: Topic<P>, priority: Int = 0, before: [String] = [], after: [String] = [],
                                   _ handler: @escaping @Sendable (TypedEvent<P>, Context<Config>) throws -> TypedHookOutcome<P>) {
        onHook(topic.name, priority: priority, before: before, after: after) { event, ctx in
            switch try handler(try event.typed(P.self), ctx) {
            case .continue: return .continue
            case .replace(let payload): return .replace(try JSONValueEncoder.encode(payload))
            }
        }
    }

    /// Offer a typed service.
    public mutating func service<I, O>(_ service: Service<I, O>, _ handler: @escaping @Sendable (I, Context<Config>) throws -> O) {
        self.service(service.name) { input, ctx in
            let decoded: I
            do { decoded = try JSONValueDecoder.decode(I.self, from: input) } catch let error as DecodingError {
                throw PluginError(status: 422, code: "service_input_invalid", detail: "\(service.name): \(BodyDecoder.describe(error))")
            }
            return try JSONValueEncoder.encode(try handler(decoded, ctx))
        }
    }
}
