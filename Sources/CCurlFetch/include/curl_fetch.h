// One blocking HTTP exchange through libcurl, for the kernel's plugin egress. A C shim
// because curl_easy_setopt is variadic, which Swift cannot call.
#pragma once
#include <stddef.h>

/// A growable byte buffer the fetch fills. Free `data` with son1k_curl_buffer_free.
typedef struct {
    unsigned char *data;
    size_t length;
    size_t capacity;
} son1k_curl_buffer;

/// Performs one request and waits for the whole answer.
///
/// - `method`, `url`: NUL-terminated; borrowed.
/// - `headers`: `header_count` NUL-terminated "Name: value" lines; borrowed.
/// - `body`: `body_length` bytes sent as the request body (may be NULL when 0); borrowed.
/// - `proxy`: NULL or "" for a direct connection (environment proxies are ignored), else a
///   proxy URL such as "http://user:password@host:3128"; borrowed, never logged.
/// - `timeout_ms`: the whole exchange's limit.
/// - `status`: the final response's status code.
/// - `response_headers`: the final response's header lines (earlier 1xx and proxy CONNECT
///   responses are dropped), "\r\n" separated; owned by the caller afterwards.
/// - `response_body`: the body; owned by the caller afterwards.
/// - `error`: at least 256 bytes; a sentence when the call fails.
///
/// Returns 0 on an HTTP answer (any status), 1 on a timeout, 2 on any other failure.
/// Redirects are not followed, so the caller's host allow-list sees every host reached.
/// Thread-safe: each call uses its own easy handle.
int son1k_curl_fetch(const char *method, const char *url,
                     const char *const *headers, size_t header_count,
                     const unsigned char *body, size_t body_length,
                     const char *proxy, long timeout_ms,
                     long *status, son1k_curl_buffer *response_headers, son1k_curl_buffer *response_body,
                     char *error);

/// Receives the body of a streamed fetch piece by piece, on the calling thread, with the
/// final response's status and its complete header lines (borrowed for the call). Return 0
/// to go on, anything else to stop the transfer.
typedef int (*son1k_curl_on_body)(void *user, long status, const son1k_curl_buffer *headers,
                                  const unsigned char *data, size_t length);

/// Like son1k_curl_fetch, but the body goes to `on_body` as it arrives instead of a buffer.
/// Stopping early through `on_body` still returns 0. Returns 3 when the transfer failed
/// after body bytes were delivered (`error` says why).
int son1k_curl_fetch_streaming(const char *method, const char *url,
                               const char *const *headers, size_t header_count,
                               const unsigned char *body, size_t body_length,
                               const char *proxy, long timeout_ms,
                               long *status, son1k_curl_buffer *response_headers,
                               son1k_curl_on_body on_body, void *user, char *error);

void son1k_curl_buffer_free(son1k_curl_buffer *buffer);
