//! The MQTT 3.1.1 + 5.0 broker behind `mq broker`.
