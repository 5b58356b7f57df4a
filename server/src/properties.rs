//! Property tests of the pure protocol core (issue 12's invariants), run by
//! the README's test command: sealing round-trips and binds its clientKey, a
//! session token verifies only as minted, and qsh ignores what the Connect
//! spec says it ignores while seeing every change it must see.

use ids::{AccountId, UnixTime};
use proptest::prelude::*;

use crate::{
    connect::{
        qsh::qsh,
        session_token::{Issue, SessionKey, mint, verify},
        token::RawToken,
    },
    secrets::{AppKey, Keyring, SharedSecret},
};

fn keyring(seed: u8) -> Keyring {
    Keyring::new(AppKey::from_bytes([seed; 32]), vec![])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_sealed_secret_opens_for_its_client_key_only(
        secret in proptest::collection::vec(any::<u8>(), 1..96),
        client_key in "[a-z0-9-]{1,40}",
        other in "[a-z0-9-]{1,40}",
        flip in any::<prop::sample::Index>(),
    ) {
        let ring = keyring(7);
        let sealed = ring.seal(&client_key, &SharedSecret::new(secret.clone())).unwrap();
        let opened = ring.open(&client_key, &sealed).unwrap();
        prop_assert_eq!(opened.expose(), secret.as_slice());
        if other != client_key {
            prop_assert!(ring.open(&other, &sealed).is_err(), "bound to its clientKey");
        }
        let mut tampered = sealed.clone();
        let at = flip.index(tampered.ciphertext.len());
        tampered.ciphertext[at] ^= 0x01;
        prop_assert!(ring.open(&client_key, &tampered).is_err(), "any flipped bit is refused");
        prop_assert!(keyring(8).open(&client_key, &sealed).is_err(), "another key with the same id fails");
    }

    #[test]
    fn a_session_token_verifies_as_minted_and_not_once_changed(
        tenant in "[a-z0-9-]{1,40}",
        account in proptest::option::of("[a-zA-Z0-9:-]{1,40}").prop_map(|a| a.map(AccountId::new)),
        generation in 1i64..1000,
        flip in any::<prop::sample::Index>(),
    ) {
        let key = SessionKey { id: "k1", bytes: &[3u8; 32] };
        let issue = Issue {
            app_key: "app", tenant: &tenant, account_id: account.as_ref(), generation,
            jti: "00112233445566778899aabbccddeeff".into(), now: UnixTime::from_secs(1_800_000_000), ttl_secs: 900,
        };
        let (token, _) = mint(&key, &issue).unwrap();
        let claims = verify(RawToken::parse(&token).unwrap(), &[SessionKey { id: "k1", bytes: &[3u8; 32] }], "app",
            UnixTime::from_secs(1_800_000_100)).unwrap();
        prop_assert_eq!((claims.tenant.as_str(), claims.sub.as_ref(), claims.r#gen),
            (tenant.as_str(), account.as_ref(), generation));
        let mut bytes = token.clone().into_bytes();
        let at = flip.index(bytes.len());
        // 'A' and 'Q' differ in a high bit, which even a signature's last base64 character carries.
        bytes[at] = if bytes[at] == b'A' { b'Q' } else { b'A' };
        if let Ok(changed) = String::from_utf8(bytes) && changed != token {
            let verified = RawToken::parse(&changed).ok().map(|raw| {
                verify(raw, &[SessionKey { id: "k1", bytes: &[3u8; 32] }], "app",
            UnixTime::from_secs(1_800_000_100))
            });
            prop_assert!(!matches!(verified, Some(Ok(_))), "a changed token never verifies: {}", changed);
        }
    }

    #[test]
    fn qsh_ignores_the_order_of_parameters_and_the_jwt_but_sees_every_value(
        params in proptest::collection::btree_map("[a-z]{1,8}", "[a-zA-Z0-9 ._~&=%-]{0,12}", 1..6),
        token in "[A-Za-z0-9._-]{10,40}",
        path in "/[a-z]{1,10}(/[a-z]{1,10})?",
    ) {
        let encoded = |pairs: &[(&String, &String)]| -> String {
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter().copied()).finish()
        };
        let pairs: Vec<(&String, &String)> = params.iter().collect();
        let reversed: Vec<(&String, &String)> = params.iter().rev().collect();
        let forward = qsh("GET", &path, &encoded(&pairs), "");
        prop_assert_eq!(&forward, &qsh("GET", &path, &encoded(&reversed), ""), "order does not matter");
        let with_jwt = format!("{}&jwt={token}", encoded(&pairs));
        prop_assert_eq!(&forward, &qsh("GET", &path, &with_jwt, ""), "the jwt parameter is not hashed");
        prop_assert_ne!(&forward, &qsh("POST", &path, &encoded(&pairs), ""), "the method is hashed");
        let (first_key, first_value) = pairs[0];
        let changed_value = format!("{first_value}x");
        let mut changed: Vec<(&String, &String)> = pairs.clone();
        changed[0] = (first_key, &changed_value);
        prop_assert_ne!(&forward, &qsh("GET", &path, &encoded(&changed), ""), "every value is hashed");
    }
}
