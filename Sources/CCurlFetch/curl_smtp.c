#include "curl_smtp.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t smtp_global_init = PTHREAD_ONCE_INIT;
static void init_smtp_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/// What the upload callback hands libcurl: the message, from `offset` on.
struct upload {
    const unsigned char *data;
    size_t length;
    size_t offset;
};

static size_t on_upload(char *buffer, size_t size, size_t count, void *user) {
    struct upload *u = user;
    size_t room = size * count, left = u->length - u->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, u->data + u->offset, n);
    u->offset += n;
    return n;
}

int son1k_curl_smtp_send(const char *url, const char *from,
                         const char *const *recipients, size_t recipient_count,
                         const char *username, const char *password, const char *ca_file, int require_tls,
                         const unsigned char *message, size_t message_length, long timeout_ms, char *error) {
    pthread_once(&smtp_global_init, init_smtp_curl);
    error[0] = 0;
    CURL *handle = curl_easy_init();
    if (!handle) {
        snprintf(error, 256, "cannot start an SMTP client");
        return 2;
    }
    struct curl_slist *rcpt = NULL;
    for (size_t i = 0; i < recipient_count; i++) rcpt = curl_slist_append(rcpt, recipients[i]);
    struct upload body = {message, message_length, 0};
    char detail[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(handle, CURLOPT_URL, url);
    curl_easy_setopt(handle, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(handle, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(handle, CURLOPT_READDATA, &body);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, (curl_off_t)message_length);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(handle, CURLOPT_USE_SSL, require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    if (ca_file && ca_file[0]) curl_easy_setopt(handle, CURLOPT_CAINFO, ca_file);
    if (username && username[0]) {
        curl_easy_setopt(handle, CURLOPT_USERNAME, username);
        curl_easy_setopt(handle, CURLOPT_PASSWORD, password ? password : "");
    }

    CURLcode code = curl_easy_perform(handle);
    int result = 0;
    if (code != CURLE_OK) {
        long reply = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply);
        snprintf(error, 256, "%s%s%s (SMTP reply %ld)", curl_easy_strerror(code), detail[0] ? ": " : "", detail, reply);
        result = code == CURLE_OPERATION_TIMEDOUT ? 1 : 2;
    }
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(handle);
    return result;
}
