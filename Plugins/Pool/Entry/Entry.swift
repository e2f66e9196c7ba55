import Son1kPluginKit
import Son1kPool

/// The one symbol the kernel looks up in libSon1kPool.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(PoolPlugin.self) }
