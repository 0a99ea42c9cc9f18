#define _GNU_SOURCE  /* pthread_setname_np */
#include <pthread.h>
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
