// One message sent through libcurl's SMTP client, for the kernel's account mail (password
// reset, e-mail verification). A C shim for the same reason as curl_fetch.h: curl_easy_setopt
// is variadic.
#pragma once
#include <stddef.h>

/// Sends `message` (a complete RFC 5322 message, CRLF line ends; libcurl dot-stuffs it) from
/// `from` to the `recipient_count` addresses in `recipients`, and waits for the server's answer.
///
/// - `url`: `smtp://host:port` (plain, upgraded with STARTTLS when `require_tls` is 1) or
///   `smtps://host:port` (TLS from the first byte); borrowed.
/// - `username`, `password`: NULL for no AUTH; borrowed, never logged.
/// - `ca_file`: NULL or "" for the system's trusted roots, else a PEM file of roots to trust.
/// - `require_tls`: 1 to refuse to go on (and never send credentials) without TLS.
/// - `timeout_ms`: the whole exchange's limit.
/// - `error`: at least 256 bytes; a sentence when the call fails (the server's reply when it
///   refused).
///
/// Returns 0 once the server accepted the message, 1 on a timeout, 2 on any other failure.
/// Thread-safe: each call uses its own easy handle.
int son1k_curl_smtp_send(const char *url, const char *from,
                         const char *const *recipients, size_t recipient_count,
                         const char *username, const char *password, const char *ca_file, int require_tls,
                         const unsigned char *message, size_t message_length, long timeout_ms, char *error);
