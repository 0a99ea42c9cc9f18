#include "kafka_shim.h"

rd_kafka_resp_err_t kafka_shim_produce(rd_kafka_t *rk,
                                       const char *topic,
                                       int32_t partition,
                                       const void *key, size_t key_len,
                                       const void *value, size_t value_len,
                                       int copy_value,
                                       rd_kafka_headers_t *headers,
                                       void *opaque) {
    const int flags = copy_value ? RD_KAFKA_MSG_F_COPY : 0;
    if (headers != NULL) {
        return rd_kafka_producev(rk,
                                 RD_KAFKA_V_TOPIC(topic),
                                 RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_MSGFLAGS(flags),
                                 RD_KAFKA_V_KEY(key, key_len),
                                 RD_KAFKA_V_VALUE((void *)value, value_len),
                                 RD_KAFKA_V_HEADERS(headers),
                                 RD_KAFKA_V_OPAQUE(opaque),
                                 RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(flags),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

int32_t kafka_shim_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
int64_t kafka_shim_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }
int64_t kafka_shim_offset_end(void) { return RD_KAFKA_OFFSET_END; }
int64_t kafka_shim_offset_stored(void) { return RD_KAFKA_OFFSET_STORED; }
int64_t kafka_shim_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }
