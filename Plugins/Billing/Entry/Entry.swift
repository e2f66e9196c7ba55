import Son1kPluginKit
import Son1kBilling

/// The one symbol the kernel looks up in libSon1kBilling.so.
@_cdecl("son1k_plugin_entry")
public func son1kPluginEntry() -> UnsafeRawPointer { export(BillingPlugin.self) }
