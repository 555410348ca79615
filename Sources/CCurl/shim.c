#include "CCurl.h"

#include <pthread.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_OK;

static void global_init(void) { global_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

CURLcode ccurl_global_init(void) {
    pthread_once(&global_once, global_init);
    return global_result;
}

CURLcode ccurl_prepare_post(CURL *easy, const char *url, const void *body, size_t body_size,
                            struct curl_slist *headers, long timeout_ms, ccurl_data_callback on_body,
                            ccurl_data_callback on_header, void *context, char *error_buffer) {
    CURLcode code;
#define SET(option, value)                                                                                             \
    if ((code = curl_easy_setopt(easy, option, value)) != CURLE_OK) return code
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_size);
    SET(CURLOPT_COPYPOSTFIELDS, body);
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_TIMEOUT_MS, timeout_ms);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, context);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, context);
    SET(CURLOPT_PRIVATE, context);
    SET(CURLOPT_ERRORBUFFER, error_buffer);
#undef SET
    return CURLE_OK;
}

CURLMcode ccurl_multi_limit_connections(CURLM *multi, long connections) {
    CURLMcode code = curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, connections);
    if (code != CURLM_OK) return code;
    return curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, connections);
}

long ccurl_response_code(CURL *easy) {
    long status = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) return 0;
    return status;
}

CURLcode ccurl_message_result(const CURLMsg *message) { return message->data.result; }
