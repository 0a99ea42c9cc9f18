#ifndef AURORA_BRIDGE_KAFKA_SHIM_H
#define AURORA_BRIDGE_KAFKA_SHIM_H

#include <stddef.h>
#include <stdint.h>
/* librdkafka through its one owner, the CRdKafka module (see CRdKafka.h): with modules this is an
 * import of CRdKafka, not a second textual copy of rdkafka.h. */
#include "../../CRdKafka/CRdKafka.h"

/// Produces one message through `rd_kafka_produceva` (the fields built here, in C), so Swift needs no
/// variadic call and the error object is destroyed before returning its code.
///
/// The key is always copied. The payload is copied when `copy_value` is non-zero; otherwise the
/// caller keeps it alive and unchanged until the delivery report. On success librdkafka owns `headers`
/// (which may be NULL); on failure the caller still owns them and must destroy them.
/// `opaque` is handed back in the delivery report as `rkmessage->_private`.
/// `rkt` is the topic's handle from `rd_kafka_topic_new` (no lookup by name under librdkafka's
/// client lock); when it is NULL the topic is named by `topic`.
rd_kafka_resp_err_t kafka_shim_produce(rd_kafka_t *rk,
                                       rd_kafka_topic_t *rkt,
                                       const char *topic,
                                       int32_t partition,
                                       const void *key, size_t key_len,
                                       const void *value, size_t value_len,
                                       int copy_value,
                                       rd_kafka_headers_t *headers,
                                       void *opaque);

/// Makes the producer configured by `conf` pick a keyed record's partition by murmur2 (Java's default
/// partitioner) of the key's bytes before the first `separator` (the whole key when it has none), for
/// every topic it produces to without a configuration of its own.
void kafka_shim_partition_by_key_prefix(rd_kafka_conf_t *conf, uint8_t separator);

/// `RD_KAFKA_PARTITION_UA`: let the partitioner choose (by key).
int32_t kafka_shim_partition_unassigned(void);
/// `RD_KAFKA_OFFSET_BEGINNING`, `_END`, `_STORED`, `_INVALID`.
int64_t kafka_shim_offset_beginning(void);
int64_t kafka_shim_offset_end(void);
int64_t kafka_shim_offset_stored(void);
int64_t kafka_shim_offset_invalid(void);

/// Names the calling thread, as `top -H` and /proc show it (Linux keeps 15 bytes): a GNU
/// extension Swift's Glibc module does not expose. Returns 0 or an errno value.
int kafka_shim_name_thread(const char *name);

/// Binds a TCP socket (SO_REUSEADDR, close-on-exec) to `ipv4:port`; with `listen_too` it also
/// listens. Returns the descriptor, or -1 with errno set. A bound socket that does not listen holds
/// the port against connect(), which never picks an explicitly bound port as a local port, while a
/// listener with SO_REUSEADDR can still bind it. Close it with `kafka_shim_close_port`.
int kafka_shim_bind_port(const char *ipv4, int port, int listen_too);
void kafka_shim_close_port(int descriptor);

#endif
