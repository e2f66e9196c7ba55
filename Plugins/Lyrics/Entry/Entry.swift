import Son1kPluginKit
import Son1kLyrics

/// The one symbol the kernel looks up in libSon1kLyrics.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(LyricsPlugin.self) }
