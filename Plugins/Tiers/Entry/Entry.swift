import Son1kPluginKit
import Son1kTiers

/// The one symbol the kernel looks up in libSon1kTiers.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(TiersPlugin.self) }
