import CSon1kABI
import Foundation
import Logging
import Son1kPluginKit

/// Turns the `plugins` array of plugins.json into running plugins.
///
/// Boot order:
/// 1. **open** every enabled entry: locate the `.so`, dlopen it, check ABI and build_info,
///    read the manifest, validate the config against the manifest's schema;
/// 2. **order** them by `requires` (a missing or broken required plugin disables its
///    dependants, transitively; a cycle fails the plugins in it);
/// 3. **check** route conflicts (fatal: names both owners) and hook order (a cycle is fatal);
/// 4. **migrate** and **init** each in load order, then **start** them.
///
/// Steps 1–3 are what `son1k plugins check` runs. A problem with one plugin disables only
/// that plugin (and what requires it); the kernel and the others keep running.
public final class PluginManager: @unchecked Sendable {
    public let plugins: [LoadedPlugin]
    /// Names in load order, after step 2.
    public private(set) var loadOrder: [String] = []
    /// Hook subscribers per topic, in the order they run.
    public private(set) var hookOrder: [String: [String]] = [:]
    private var byName: [String: LoadedPlugin] = [:]
    private var serviceProviders: [String: LoadedPlugin] = [:]
    let logger: Logger

    public init(config: KernelConfig, logger: Logger) {
        plugins = config.plugins.map(LoadedPlugin.init(entry:))
        self.logger = logger
        for p in plugins { byName[p.name] = p }
    }

    public func plugin(named name: String) -> LoadedPlugin? { byName[name] }

    // MARK: 1. Open

    func open(config: KernelConfig) {
        let searchPath = config.settings.pluginPath + [PluginLibrary.executableDirectory]
        let base = config.sourcePath.deletingLastPathComponent
        for plugin in plugins {
            guard plugin.entry.enabled else {
                plugin.status = .disabled("disabled in plugins.json")
                continue
            }
            if plugin.entry.isolation == "process" {
                plugin.status = .failed("isolation \"process\" is not available in this version; use \"in-process\"")
                continue
            }
            guard let path = PluginLibrary.locate(plugin.entry.library, searchPath: searchPath, relativeTo: base.isEmpty ? "." : base) else {
                plugin.status = .failed("library \(plugin.entry.library) not found (looked for lib\(plugin.entry.library).so in \(searchPath.joined(separator: ", ")))")
                continue
            }
            do {
                let library = try PluginLibrary.open(path: path)
                guard library.manifest.name == plugin.name else {
                    plugin.status = .failed("\(path) is the plugin '\(library.manifest.name)', not '\(plugin.name)'")
                    continue
                }
                plugin.library = library
            } catch {
                plugin.status = .failed("\(error)")
                continue
            }
            let schema = plugin.library!.manifest.configSchema
            let config = SchemaValidator.applyDefaults(plugin.entry.config, schema: schema)
            let errors = SchemaValidator.validate(config, against: schema)
            guard errors.isEmpty else {
                plugin.status = .failed("invalid config: " + errors.joined(separator: "; "))
                continue
            }
            plugin.config = config
            plugin.secretFields = SchemaValidator.secretFields(schema)
        }
    }

    // MARK: 2. Order

    func resolveLoadOrder() {
        let candidates = plugins.filter { $0.status.isUsable }
        let names = candidates.map(\.name)
        let edges = candidates.flatMap { p in (p.manifest?.requires ?? []).map { ($0.name, p.name) } }
        do {
            loadOrder = try TopologicalOrder.sort(names, edges: edges, precedes: <)
        } catch let cycle as TopologicalOrder.Cycle {
            for name in cycle.nodes { byName[name]?.status = .failed("dependency \(cycle)") }
            loadOrder = (try? TopologicalOrder.sort(names.filter { !cycle.nodes.contains($0) }, edges: edges, precedes: <)) ?? []
        } catch {}
        for name in loadOrder { disableIfRequirementsUnmet(byName[name]!) }
    }

    /// Disable `plugin` when a plugin it requires (not optionally) is not usable.
    private func disableIfRequirementsUnmet(_ plugin: LoadedPlugin) {
        guard plugin.status.isUsable else { return }
        for req in plugin.manifest?.requires ?? [] where !req.optional {
            guard let dep = byName[req.name] else {
                plugin.status = .disabled("requires plugin '\(req.name)', which is not in plugins.json")
                return
            }
            guard dep.status.isUsable else {
                plugin.status = .disabled("requires plugin '\(req.name)', which is \(dep.status.name)")
                return
            }
        }
    }

    // MARK: 3. Check routes and hooks

    /// Add every usable plugin's routes to `router`; throws on a conflict.
    func mountRoutes(into router: inout RouteTable<RouteTarget>) throws {
        for name in loadOrder {
            guard let plugin = byName[name], plugin.status.isUsable, let manifest = plugin.manifest else { continue }
            for (index, route) in manifest.routes.enumerated() {
                try router.add(method: route.method, path: route.path, owner: "plugin '\(name)'",
                               target: RouteTarget(spec: route, handler: .plugin(plugin, index)))
            }
        }
    }

    /// Resolve the order of hook subscribers per topic; throws on a before/after cycle.
    func resolveHookOrder() throws {
        var subscribers: [String: [(String, SubscriptionSpec)]] = [:]
        for name in loadOrder {
            guard let p = byName[name], p.status.isUsable else { continue }
            for sub in p.manifest?.subscriptions ?? [] where sub.kind == .hook { subscribers[sub.topic, default: []].append((name, sub)) }
        }
        var order: [String: [String]] = [:]
        for (topic, subs) in subscribers {
            let priority = Dictionary(uniqueKeysWithValues: subs.map { ($0.0, $0.1.priority) })
            var edges: [(String, String)] = []
            for (name, spec) in subs {
                edges += spec.before.map { (name, $0) }
                edges += spec.after.map { ($0, name) }
            }
            do {
                order[topic] = try TopologicalOrder.sort(subs.map(\.0), edges: edges) { a, b in
                    (priority[a] ?? 0, a) < (priority[b] ?? 0, b)
                }
            } catch let cycle as TopologicalOrder.Cycle {
                throw BootFailure(description: "hook order for '\(topic)' has a \(cycle)")
            }
        }
        hookOrder = order
    }

    // MARK: 4. Migrate, init, start

    /// Apply each usable plugin's pending migrations in load order; a failure fails that
    /// plugin (and, through `requires`, disables its dependants).
    func migrate(storage: any Storage) {
        let migrator = Migrator(storage: storage)
        for name in loadOrder {
            guard let plugin = byName[name] else { continue }
            disableIfRequirementsUnmet(plugin)
            guard plugin.status.isUsable, let library = plugin.library else { continue }
            do {
                let applied = try migrator.migrate(owner: name, library.manifest.migrations, guard: plugin.prefixGuard.rules)
                if !applied.isEmpty { logger.info("plugin \(name): applied migrations \(applied.map(String.init).joined(separator: ", "))") }
            } catch {
                plugin.status = .failed("\(error)")
            }
        }
    }

    func initialize(kernel: Kernel) {
        for name in loadOrder {
            guard let plugin = byName[name] else { continue }
            disableIfRequirementsUnmet(plugin)
            guard plugin.status.isUsable, let library = plugin.library else { continue }
            let context = HostContext(kernel: kernel, plugin: plugin)
            plugin.hostContext = context
            var err = son1k_buffer_t(data: nil, len: 0)
            let configText = plugin.config.jsonString
            let status = withStringPointer(configText) { c, cl in library.api.pointee.`init`!(HostFunctions.table, context.pointer, c, cl, &err) }
            let message = String(decoding: plugin.take(&err), as: UTF8.self)
            guard status == Int32(SON1K_OK) else {
                plugin.status = .failed("init failed: \(message.isEmpty ? "status \(status)" : message)")
                continue
            }
            plugin.status = .running
        }
        for name in loadOrder {
            guard let plugin = byName[name], plugin.status == .running, let start = plugin.api.pointee.start else { continue }
            var err = son1k_buffer_t(data: nil, len: 0)
            let status = start(&err)
            let message = String(decoding: plugin.take(&err), as: UTF8.self)
            if status != Int32(SON1K_OK) { plugin.status = .failed("start failed: \(message)") }
        }
    }

    /// Which plugin answers each service; throws when two plugins offer the same one (a call
    /// would otherwise reach whichever loaded last). A provider that later fails to start
    /// answers nothing: calls check its status.
    func claimServices() throws {
        var providers: [String: LoadedPlugin] = [:]
        for name in loadOrder {
            guard let plugin = byName[name], plugin.status.isUsable else { continue }
            for service in plugin.manifest?.services ?? [] {
                if let other = providers[service] {
                    let both = [other.name, name].sorted()
                    throw BootFailure(description: "the service '\(service)' is offered by both plugin '\(both[0])' and plugin '\(both[1])'")
                }
                providers[service] = plugin
            }
        }
        serviceProviders = providers
    }

    /// What the event bus needs: running subscribers per topic, in hook order.
    func subscriptions() -> EventBus.Subscriptions {
        var subs = EventBus.Subscriptions()
        for p in plugins where p.status == .running { subs.plugins[p.name] = p }
        for (topic, names) in hookOrder {
            subs.hooks[topic] = names.compactMap { byName[$0] }.filter { $0.status == .running }
        }
        for p in plugins where p.status == .running {
            for sub in p.manifest?.subscriptions ?? [] where sub.kind == .action {
                subs.actions[sub.topic, default: []].append(p.name)
                if sub.transactional { subs.transactional[.init(plugin: p.name, topic: sub.topic)] = sub.isolation }
            }
        }
        return subs
    }

    /// Every running plugin, in load order.
    var running: [LoadedPlugin] { loadOrder.compactMap { byName[$0] }.filter { $0.status == .running } }

    /// The end of a shutdown, dependants first.
    func stopAll() {
        for plugin in running.reversed() { plugin.api.pointee.stop?() }
    }

    // MARK: Services

    func callService(_ service: String, input: [UInt8], caller: String) throws -> [UInt8] {
        guard let provider = serviceProviders[service], provider.status == .running else {
            throw PluginError(status: 503, code: "service_unavailable", detail: "No running plugin offers the service '\(service)'.")
        }
        switch provider.handleCall(service: service, input: input) {
        case .success(let bytes): return bytes
        case .failure(let error): throw error
        }
    }

    // MARK: Reporting

    /// The state of every plugin, as `GET /api/plugins` and `son1k plugins list` show it.
    public func report() -> [JSONValue] {
        plugins.map { p in
            let m = p.manifest
            var item: JSONValue = [
                "name": .string(p.name), "library": .string(p.entry.library), "state": .string(p.status.name),
                "version": m.map { .string($0.version) } ?? .null, "description": m.map { .string($0.description) } ?? .null,
                "reason": p.status.reason.map(JSONValue.string) ?? .null,
                "requires": .array((m?.requires ?? []).map { ["name": .string($0.name), "optional": .bool($0.optional)] }),
                "routes": .array((m?.routes ?? []).map { ["method": .string($0.method), "path": .string($0.path), "auth": .string($0.auth.rawValue)] }),
                "subscriptions": .array((m?.subscriptions ?? []).map { ["topic": .string($0.topic), "kind": .string($0.kind.rawValue)] }),
                "services": .array((m?.services ?? []).map(JSONValue.string)),
            ]
            item["build_info"] = p.library.map { .string($0.buildInfo) } ?? .null
            return item
        }
    }
}

/// A start-up error that stops the kernel (route conflict, hook cycle, bad plugins.json).
public struct BootFailure: Error, CustomStringConvertible {
    public let description: String
}
