import Son1kPluginKit
import Son1kHello

/// The one symbol the kernel looks up in libSon1kHello.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(HelloPlugin.self) }
