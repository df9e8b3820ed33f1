//! Fuzz target: any bytes through the frame and message decoder, as a
//! server reads them (requests), as a client does (replies), and either
//! way. It must never panic nor allocate beyond its bounds (libFuzzer's
//! -rss_limit_mb catches that), and what it accepts must encode again to
//! a frame that decodes to the same message.
#![no_main]

use arqonbus_proto::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let as_request = arqonbus_proto::decode_request(data).map(|(e, r)| Message::Request(e, r));
    let as_reply = arqonbus_proto::decode_reply(data).map(Message::Reply);
    let either = arqonbus_proto::decode(data);
    for message in [as_request, as_reply, either].into_iter().flatten() {
        let again = arqonbus_proto::encode(&message).expect("a decoded message encodes");
        let back = arqonbus_proto::decode(&again).expect("its encoding decodes");
        assert_eq!(back, message);
    }
});
