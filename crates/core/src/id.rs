//! Opaque, prefixed identifiers drawn from the operating system's CSPRNG.

use crate::{Error, Result};

/// The kinds of things that have ids; each has its own prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `acc_`
    Account,
    /// `pat_`
    AccessToken,
    /// `svc_`
    Service,
    /// `plan_`
    PricingPlan,
    /// `prod_`
    Product,
    /// `app_`
    Application,
    /// `sub_`
    Subscription,
    /// `evt_`
    MeteringEvent,
    /// `exe_`
    Execution,
    /// `bld_`
    Build,
}

impl IdKind {
    /// Every kind.
    pub const ALL: [IdKind; 10] = [
        IdKind::Account,
        IdKind::AccessToken,
        IdKind::Service,
        IdKind::PricingPlan,
        IdKind::Product,
        IdKind::Application,
        IdKind::Subscription,
        IdKind::MeteringEvent,
        IdKind::Execution,
        IdKind::Build,
    ];

    /// What an id of this kind names, as problems say it ("service").
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Account => "account",
            IdKind::AccessToken => "access token",
            IdKind::Service => "service",
            IdKind::PricingPlan => "pricing plan",
            IdKind::Product => "product",
            IdKind::Application => "application",
            IdKind::Subscription => "subscription",
            IdKind::MeteringEvent => "metering event",
            IdKind::Execution => "execution",
            IdKind::Build => "build",
        }
    }

    /// The prefix, underscore included.
    pub fn prefix(self) -> &'static str {
        match self {
            IdKind::Account => "acc_",
            IdKind::AccessToken => "pat_",
            IdKind::Service => "svc_",
            IdKind::PricingPlan => "plan_",
            IdKind::Product => "prod_",
            IdKind::Application => "app_",
            IdKind::Subscription => "sub_",
            IdKind::MeteringEvent => "evt_",
            IdKind::Execution => "exe_",
            IdKind::Build => "bld_",
        }
    }
}

/// Lower-case Crockford base32 without padding: ids stay short and URL-safe.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Fills `buf` from the CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|e| Error::Internal(format!("random source failed: {e}")))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A new id of `kind`: its prefix followed by 128 random bits in base32.
pub fn new_id(kind: IdKind) -> Result<String> {
    let mut bytes = [0u8; 16];
    random_bytes(&mut bytes)?;
    Ok(format!("{}{}", kind.prefix(), base32(&bytes)))
}

/// The bytes of a packed id ([`pack_id`]): its 26 digits of 5 bits.
pub const PACKED_ID_LEN: usize = 17;

/// The digits of a well-formed id of `kind` packed 5 bits each into
/// [`PACKED_ID_LEN`] bytes (the last 6 bits zero), or `None` when `id` is
/// not well formed: the compact form of an id inside sealed tokens.
pub fn pack_id(kind: IdKind, id: &str) -> Option<[u8; PACKED_ID_LEN]> {
    if !is_well_formed(kind, id) {
        return None;
    }
    let mut packed = [0u8; PACKED_ID_LEN];
    for (n, c) in id[kind.prefix().len()..].bytes().enumerate() {
        let digit = ALPHABET.iter().position(|a| *a == c)? as u16;
        // Digit n occupies bits 5n .. 5n+5, most significant first.
        let bit = n * 5;
        let shifted = digit << (11 - bit % 8);
        packed[bit / 8] |= (shifted >> 8) as u8;
        if let Some(next) = packed.get_mut(bit / 8 + 1) {
            *next |= shifted as u8;
        }
    }
    Some(packed)
}

/// The id of `kind` that [`pack_id`] packed into `packed`; `None` when the
/// spare bits are not zero.
pub fn unpack_id(kind: IdKind, packed: &[u8; PACKED_ID_LEN]) -> Option<String> {
    if packed[PACKED_ID_LEN - 1] & 0x3f != 0 {
        return None;
    }
    let mut id = String::with_capacity(kind.prefix().len() + 26);
    id.push_str(kind.prefix());
    for n in 0..26 {
        let bit = n * 5;
        let high = u16::from(packed[bit / 8]) << 8;
        let low = packed.get(bit / 8 + 1).copied().map_or(0, u16::from);
        let digit = ((high | low) >> (11 - bit % 8)) & 31;
        id.push(ALPHABET[digit as usize] as char);
    }
    Some(id)
}

/// Whether `id` is shaped like an id of `kind` (prefix and alphabet); ids in
/// paths are checked with this before they reach the store.
pub fn is_well_formed(kind: IdKind, id: &str) -> bool {
    id.strip_prefix(kind.prefix())
        .is_some_and(|rest| rest.len() == 26 && rest.bytes().all(|b| ALPHABET.contains(&b)))
}

/// A random UUID v4 in its canonical hyphenated form.
pub fn new_uuid_v4() -> Result<String> {
    let mut b = [0u8; 16];
    random_bytes(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_carry_their_prefix_and_are_well_formed() {
        let id = new_id(IdKind::Service).unwrap();
        assert!(id.starts_with("svc_"), "{id}");
        assert!(is_well_formed(IdKind::Service, &id), "{id}");
        assert!(!is_well_formed(IdKind::Account, &id));
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids: HashSet<String> = (0..10_000)
            .map(|_| new_id(IdKind::MeteringEvent).unwrap())
            .collect();
        assert_eq!(ids.len(), 10_000);
    }

    #[test]
    fn a_packed_id_unpacks_to_itself() {
        let mut ids: Vec<String> = (0..1_000)
            .map(|_| new_id(IdKind::Subscription).unwrap())
            .collect();
        ids.push("sub_0123456789abcdefghjkmnpqrs".into());
        ids.push("sub_zzzzzzzzzzzzzzzzzzzzzzzzzz".into());
        ids.push("sub_00000000000000000000000000".into());
        for id in ids {
            let packed = pack_id(IdKind::Subscription, &id).unwrap();
            assert_eq!(unpack_id(IdKind::Subscription, &packed), Some(id));
        }
        assert_eq!(pack_id(IdKind::Service, "svc_1"), None);
        assert_eq!(
            pack_id(IdKind::Service, "sub_00000000000000000000000000"),
            None
        );
        let mut spare = [0u8; PACKED_ID_LEN];
        spare[PACKED_ID_LEN - 1] = 1;
        assert_eq!(unpack_id(IdKind::Service, &spare), None);
    }

    #[test]
    fn malformed_ids_are_recognised() {
        assert!(!is_well_formed(IdKind::Service, "svc_"));
        assert!(!is_well_formed(IdKind::Service, "svc_../../etc/passwd"));
        assert!(!is_well_formed(
            IdKind::Service,
            "svc_ABCDEFGHJKMNPQRSTVWXYZ0123"
        ));
    }

    #[test]
    fn uuid_v4_has_version_and_variant_bits() {
        let u = new_uuid_v4().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]), "{u}");
    }

    #[test]
    fn base32_encodes_known_bytes() {
        assert_eq!(base32(&[0xff]), "zw");
        assert_eq!(base32(&[0, 0, 0, 0, 0]), "00000000");
    }
}
