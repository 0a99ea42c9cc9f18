import CRdKafka

extension KafkaConfiguration {
    /// Builds an `rd_kafka_conf_t`. The caller owns the result (it passes it to `rd_kafka_new`).
    func makeNative() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .invalidConfiguration, message: "rd_kafka_conf_new failed")
        }
        var errstr = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let detail = Self.isSecret(key)
                    ? "the value given is not valid (hidden: secret property)"
                    : errstr.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .invalidConfiguration,
                                 message: "configuration property '\(key)': \(detail)")
            }
        }
        return conf
    }
}
