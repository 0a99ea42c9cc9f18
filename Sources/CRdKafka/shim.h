#ifndef AURORA_BRIDGE_CRDKAFKA_H
#define AURORA_BRIDGE_CRDKAFKA_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
