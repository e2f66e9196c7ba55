import CSon1kABI

extension PluginError {
    /// The host-call status a problem is returned with, the same on every host (the kernel's
    /// and the test host): a plugin's SDK maps it back to this error.
    package var hostStatus: son1k_status_t {
        switch status {
        case 400, 422: Int32(SON1K_ERR_INVALID)
        case 404: Int32(SON1K_ERR_NOT_FOUND)
        case 401, 403: Int32(SON1K_ERR_DENIED)
        default: Int32(SON1K_ERR_FAILED)
        }
    }
}
