import Son1kPluginKit
import Son1kStealth

/// The one symbol the kernel looks up in libSon1kStealth.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(StealthPlugin.self) }
