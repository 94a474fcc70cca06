//! Arbitrary bytes never panic the general decoder; every frame that decodes
//! re-encodes to bytes that decode to the same frame, and the zero-copy
//! `Decoder` agrees with `decode_slice`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soquete_resp::{decode_slice, encode, BytesMut, Decoder};

fuzz_target!(|data: &[u8]| {
    let mut dec = Decoder::new();
    let mut buf = BytesMut::from(data);
    let mut rest = data;
    loop {
        let slice = decode_slice(rest);
        let zero_copy = dec.decode(&mut buf);
        assert_eq!(
            slice.as_ref().map(|o| o.as_ref().map(|(f, _)| f)),
            zero_copy.as_ref().map(|o| o.as_ref())
        );
        let Ok(Some((frame, used))) = slice else {
            break;
        };
        assert!(used > 0 && used <= rest.len());
        rest = &rest[used..];
        assert_eq!(buf.len(), rest.len());

        let mut bytes = Vec::new();
        encode::frame(&mut bytes, &frame);
        assert_eq!(bytes.len(), encode::encoded_len(&frame));
        assert_eq!(decode_slice(&bytes), Ok(Some((frame, bytes.len()))));
    }
});
