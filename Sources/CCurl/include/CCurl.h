// The few libcurl calls triage-eval's HTTP client makes, as plain C functions: curl_easy_setopt,
// curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot call.
#ifndef TRIAGE_EVAL_CCURL_H
#define TRIAGE_EVAL_CCURL_H

#include <curl/curl.h>

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);

/// Initialises libcurl once for the process (thread-safe).
CURLcode ccurl_global_init(void);

/// Sets up `easy` (fresh or reset) for one POST: the URL, the body (copied), the headers (kept by the caller until
/// the transfer ends), a timeout for the whole transfer, callbacks receiving the body and each header line, and a
/// buffer of CURL_ERROR_SIZE bytes for the error detail.
CURLcode ccurl_prepare_post(CURL *easy, const char *url, const void *body, size_t body_size,
                            struct curl_slist *headers, long timeout_ms, ccurl_data_callback on_body,
                            ccurl_data_callback on_header, void *context, char *error_buffer);

/// Limits a multi handle to `connections` connections per host and keeps that many open between transfers.
CURLMcode ccurl_multi_limit_connections(CURLM *multi, long connections);

/// The HTTP status of a finished transfer (0 when none was received).
long ccurl_response_code(CURL *easy);

/// The outcome of a finished transfer from a CURLMSG_DONE message.
CURLcode ccurl_message_result(const CURLMsg *message);

#endif
