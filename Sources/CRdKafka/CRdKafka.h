#ifndef AURORA_BRIDGE_CRDKAFKA_H
#define AURORA_BRIDGE_CRDKAFKA_H
/* The one owner of librdkafka's declarations. Every C header of the package that needs them
 * includes this file, never <librdkafka/...> itself: a header included textually by two modules
 * gives its declarations to whichever module the compiler happens to see first, and then a Swift
 * file's build depends on what other files import (a whole-module release build did not find
 * RD_KAFKA_PRODUCER that way). A static test (KafkaTests) keeps it so. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif
