import Son1kPluginKit
import Son1kGeneration

/// The one symbol the kernel looks up in libSon1kGeneration.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(GenerationPlugin.self) }
