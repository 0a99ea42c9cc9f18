#define _GNU_SOURCE  /* pthread_setname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kafka_shim.h"

rd_kafka_resp_err_t kafka_shim_produce(rd_kafka_t *rk,
                                       rd_kafka_topic_t *rkt,
                                       const char *topic,
                                       int32_t partition,
                                       const void *key, size_t key_len,
                                       const void *value, size_t value_len,
                                       int copy_value,
                                       rd_kafka_headers_t *headers,
                                       void *opaque) {
    rd_kafka_vu_t fields[7];
    size_t count = 0;
    if (rkt != NULL) {
        fields[count].vtype = RD_KAFKA_VTYPE_RKT;
        fields[count++].u.rkt = rkt;
    } else {
        fields[count].vtype = RD_KAFKA_VTYPE_TOPIC;
        fields[count++].u.cstr = topic;
    }
    fields[count].vtype = RD_KAFKA_VTYPE_PARTITION;
    fields[count++].u.i32 = partition;
    fields[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    fields[count++].u.i = copy_value ? RD_KAFKA_MSG_F_COPY : 0;
    fields[count].vtype = RD_KAFKA_VTYPE_KEY;
    fields[count].u.mem.ptr = (void *)key;
    fields[count++].u.mem.size = key_len;
    fields[count].vtype = RD_KAFKA_VTYPE_VALUE;
    fields[count].u.mem.ptr = (void *)value;
    fields[count++].u.mem.size = value_len;
    fields[count].vtype = RD_KAFKA_VTYPE_OPAQUE;
    fields[count++].u.ptr = opaque;
    if (headers != NULL) {
        fields[count].vtype = RD_KAFKA_VTYPE_HEADERS;
        fields[count++].u.headers = headers;
    }
    rd_kafka_error_t *error = rd_kafka_produceva(rk, fields, count);
    if (error == NULL) {
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return code;
}

static int32_t partition_by_key_prefix(const rd_kafka_topic_t *rkt, const void *key, size_t key_len,
                                       int32_t partition_count, void *rkt_opaque, void *msg_opaque) {
    const int separator = (int)(uintptr_t)rkt_opaque;
    const void *found = key != NULL ? memchr(key, separator, key_len) : NULL;
    const size_t prefix_len = found != NULL ? (size_t)((const char *)found - (const char *)key) : key_len;
    return rd_kafka_msg_partitioner_murmur2(rkt, key, prefix_len, partition_count, rkt_opaque, msg_opaque);
}

void kafka_shim_partition_by_key_prefix(rd_kafka_conf_t *conf, uint8_t separator) {
    /* Topic-level properties set on the global configuration (acks, message.timeout.ms) live in its
     * default topic configuration, owned by `conf`: amend that one when it exists. */
    rd_kafka_topic_conf_t *topic_conf = rd_kafka_conf_get_default_topic_conf(conf);
    const int created = topic_conf == NULL;
    if (created) {
        topic_conf = rd_kafka_topic_conf_new();
    }
    rd_kafka_topic_conf_set_partitioner_cb(topic_conf, partition_by_key_prefix);
    rd_kafka_topic_conf_set_opaque(topic_conf, (void *)(uintptr_t)separator);
    if (created) {
        rd_kafka_conf_set_default_topic_conf(conf, topic_conf); /* takes ownership */
    }
}

int32_t kafka_shim_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
int64_t kafka_shim_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }
int64_t kafka_shim_offset_end(void) { return RD_KAFKA_OFFSET_END; }
int64_t kafka_shim_offset_stored(void) { return RD_KAFKA_OFFSET_STORED; }
int64_t kafka_shim_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

int kafka_shim_name_thread(const char *name) {
#if defined(__APPLE__)
    return pthread_setname_np(name);
#else
    return pthread_setname_np(pthread_self(), name);
#endif
}

int kafka_shim_bind_port(const char *ipv4, int port, int listen_too) {
    struct sockaddr_in address;
    memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ipv4, &address.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    const int descriptor = socket(AF_INET, SOCK_STREAM, 0);
    if (descriptor < 0) {
        return -1;
    }
    const int on = 1;
    if (fcntl(descriptor, F_SETFD, FD_CLOEXEC) != 0
        || setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
        || bind(descriptor, (const struct sockaddr *)&address, sizeof(address)) != 0
        || (listen_too && listen(descriptor, 1) != 0)) {
        const int saved = errno;
        close(descriptor);
        errno = saved;
        return -1;
    }
    return descriptor;
}

void kafka_shim_close_port(int descriptor) {
    if (descriptor >= 0) {
        close(descriptor);
    }
}
