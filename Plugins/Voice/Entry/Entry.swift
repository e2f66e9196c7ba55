import Son1kPluginKit
import Son1kVoice

/// The one symbol the kernel looks up in libSon1kVoice.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(VoicePlugin.self) }
