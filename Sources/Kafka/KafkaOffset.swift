import CKafkaShim

/// Special offsets understood by librdkafka.
public enum KafkaOffset {
    public static var beginning: Int64 { kafka_shim_offset_beginning() }
    public static var end: Int64 { kafka_shim_offset_end() }
    public static var stored: Int64 { kafka_shim_offset_stored() }
    public static var invalid: Int64 { kafka_shim_offset_invalid() }
}
