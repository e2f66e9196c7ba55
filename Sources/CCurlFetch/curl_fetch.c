#include "curl_fetch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t global_init = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int append(son1k_curl_buffer *b, const char *bytes, size_t n) {
    if (b->length + n > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->length + n) capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (!grown) return 0;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->length, bytes, n);
    b->length += n;
    return 1;
}

static size_t on_body(char *bytes, size_t size, size_t count, void *user) {
    return append(user, bytes, size * count) ? size * count : 0;
}

static size_t on_header(char *bytes, size_t size, size_t count, void *user) {
    son1k_curl_buffer *b = user;
    size_t n = size * count;
    // A status line starts a new response (after a 100 Continue or a proxy's CONNECT):
    // keep only the last one's headers.
    if (n >= 5 && memcmp(bytes, "HTTP/", 5) == 0) b->length = 0;
    return append(b, bytes, n) ? n : 0;
}

/// The state a streamed transfer's write callback needs.
struct stream_sink {
    CURL *handle;
    son1k_curl_buffer *headers;
    son1k_curl_on_body on_body;
    void *user;
    int delivered;
    int stopped;
};

static size_t on_stream_body(char *bytes, size_t size, size_t count, void *user) {
    struct stream_sink *sink = user;
    long status = 0;
    curl_easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
    sink->delivered = 1;
    if (sink->on_body(sink->user, status, sink->headers, (const unsigned char *)bytes, size * count) != 0) {
        sink->stopped = 1;
        return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
    }
    return size * count;
}


static int perform(const char *method, const char *url,
                   const char *const *headers, size_t header_count,
                   const unsigned char *body, size_t body_length,
                   const char *proxy, long timeout_ms,
                   long *status, son1k_curl_buffer *response_headers,
                   son1k_curl_buffer *response_body, struct stream_sink *sink,
                   char *error) {
    pthread_once(&global_init, init_curl);
    error[0] = 0;
    CURL *h = curl_easy_init();
    if (!h) {
        strcpy(error, "could not create an HTTP client handle");
        return 2;
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl_slist_append(list, headers[i]);
    // No "Expect: 100-continue" round trip for larger bodies.
    list = curl_slist_append(list, "Expect:");

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, proxy ? proxy : "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
    if (sink) {
        sink->handle = h;
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
    } else {
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, response_body);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, response_headers);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && body_length == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_length ? (const char *)body : "");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }

    CURLcode rc = curl_easy_perform(h);
    int result = 0;
    if (rc == CURLE_OK || (sink && sink->stopped)) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    } else {
        result = rc == CURLE_OPERATION_TIMEDOUT ? 1 : (sink && sink->delivered) ? 3 : 2;
        // curl's sentence never contains the proxy's credentials; fall back to its code's text.
        strncpy(error, curl_error[0] ? curl_error : curl_easy_strerror(rc), 255);
        error[255] = 0;
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return result;
}

int son1k_curl_fetch(const char *method, const char *url,
                     const char *const *headers, size_t header_count,
                     const unsigned char *body, size_t body_length,
                     const char *proxy, long timeout_ms,
                     long *status, son1k_curl_buffer *response_headers, son1k_curl_buffer *response_body,
                     char *error) {
    return perform(method, url, headers, header_count, body, body_length, proxy, timeout_ms, status,
                   response_headers, response_body, NULL, error);
}

int son1k_curl_fetch_streaming(const char *method, const char *url,
                               const char *const *headers, size_t header_count,
                               const unsigned char *body, size_t body_length,
                               const char *proxy, long timeout_ms,
                               long *status, son1k_curl_buffer *response_headers,
                               son1k_curl_on_body on_body, void *user, char *error) {
    struct stream_sink sink = {NULL, response_headers, on_body, user, 0, 0};
    return perform(method, url, headers, header_count, body, body_length, proxy, timeout_ms, status,
                   response_headers, NULL, &sink, error);
}

void son1k_curl_buffer_free(son1k_curl_buffer *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = buffer->capacity = 0;
}
