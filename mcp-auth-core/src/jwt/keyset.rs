//! A parsed JWK Set: every usable key bound to exactly one algorithm, parsed and
//! validated once (EC points on the curve, RSA modulus size) when the set loads.

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use serde_json::Value;

use super::algorithm::{self, Algorithm};

/// base64url for JWK members: padding tolerated, since some IdPs emit it.
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

/// One verification key, usable with exactly one algorithm.
pub(crate) struct BoundKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: ParsedPublicKey,
}

/// A parsed, validated JWK Set.
pub struct KeySet {
    keys: Vec<BoundKey>,
    skipped: Vec<String>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| (k.kid.as_deref(), algorithm::name_of(k.alg)))
                    .collect::<Vec<_>>(),
            )
            .field("skipped", &self.skipped)
            .finish()
    }
}

#[derive(Deserialize)]
struct RawJwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document. Keys that cannot be used (unknown `kty`, `use: enc`,
    /// symmetric keys, weak RSA, points off the curve, an `alg` that does not fit
    /// the key) are skipped and listed in [`KeySet::skipped`]; they never make the
    /// whole set fail.
    pub fn from_jwks(doc: &serde_json::Map<String, Value>) -> Result<KeySet, String> {
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err("no \"keys\" array".into());
        };
        let mut set = KeySet {
            keys: Vec::new(),
            skipped: Vec::new(),
        };
        for (i, entry) in entries.iter().enumerate() {
            let kid_hint = entry
                .get("kid")
                .and_then(Value::as_str)
                .unwrap_or("<no kid>")
                .to_owned();
            match serde_json::from_value::<RawJwk>(entry.clone())
                .map_err(|e| e.to_string())
                .and_then(parse_jwk)
            {
                Ok(mut bound) => set.keys.append(&mut bound),
                Err(reason) => {
                    tracing::warn!(index = i, kid = %kid_hint, %reason, "skipping unusable JWK");
                    set.skipped.push(format!("#{i} ({kid_hint}): {reason}"));
                }
            }
        }
        Ok(set)
    }

    /// Number of (key, algorithm) bindings.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Why keys were skipped, one line each.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Whether any key carries `kid`.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The key for a token header: the key with this `kid` bound to `alg`. Without a
    /// matching `kid`, a key without a `kid` is used only if it is the one key bound to `alg`.
    pub(crate) fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<&BoundKey> {
        if let Some(kid) = kid
            && let Some(k) = self
                .keys
                .iter()
                .find(|k| k.alg == alg && k.kid.as_deref() == Some(kid))
        {
            return Some(k);
        }
        let mut anonymous = self
            .keys
            .iter()
            .filter(|k| k.alg == alg && (k.kid.is_none() || kid.is_none()));
        match (anonymous.next(), anonymous.next()) {
            (Some(only), None) if kid.is_none() || only.kid.is_none() => Some(only),
            _ => None,
        }
    }
}

fn decode(member: &'static str, value: Option<&String>) -> Result<Vec<u8>, String> {
    let v = value.ok_or_else(|| format!("missing member {member:?}"))?;
    JWK_B64
        .decode(v)
        .map_err(|e| format!("member {member:?} is not base64url: {e}"))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Builds the verification key of one JWK for one algorithm.
type KeyBuilder = Box<dyn Fn(Algorithm) -> Result<ParsedPublicKey, String>>;

fn parse_jwk(jwk: RawJwk) -> Result<Vec<BoundKey>, String> {
    if let Some(u) = jwk.use_.as_deref()
        && u != "sig"
    {
        return Err(format!("use is {u:?}, not \"sig\""));
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|o| o == "verify")
    {
        return Err("key_ops does not include \"verify\"".into());
    }
    let declared = match jwk.alg.as_deref() {
        None => None,
        Some(name) => {
            Some(algorithm::parse(name).ok_or_else(|| format!("unsupported alg {name:?}"))?)
        }
    };
    let kty = jwk.kty.as_deref().ok_or("missing kty")?;
    let (candidates, build): (Vec<Algorithm>, KeyBuilder) = match kty {
        "RSA" => {
            let n = decode("n", jwk.n.as_ref())?;
            let e = decode("e", jwk.e.as_ref())?;
            let n = strip_leading_zeros(&n).to_vec();
            let e = strip_leading_zeros(&e).to_vec();
            if n.len() * 8 < MIN_RSA_BITS {
                return Err(format!(
                    "RSA modulus is {} bits, under {MIN_RSA_BITS}",
                    n.len() * 8
                ));
            }
            let build = move |alg: Algorithm| {
                let params = algorithm::rsa_parameters(alg).ok_or("not an RSA algorithm")?;
                RsaPublicKeyComponents {
                    n: n.as_slice(),
                    e: e.as_slice(),
                }
                .to_parsed_public_key(params)
                .map_err(|e| format!("invalid RSA key: {e}"))
            };
            (algorithm::RSA.to_vec(), Box::new(build))
        }
        "EC" => {
            let (alg, size) = match jwk.crv.as_deref() {
                Some("P-256") => (Algorithm::ES256, 32),
                Some("P-384") => (Algorithm::ES384, 48),
                other => return Err(format!("unsupported EC curve {other:?}")),
            };
            let x = decode("x", jwk.x.as_ref())?;
            let y = decode("y", jwk.y.as_ref())?;
            if x.len() != size || y.len() != size {
                return Err(format!("EC coordinates must be {size} bytes each"));
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (vec![alg], Box::new(move |alg| public_key(alg, &point)))
        }
        "OKP" => {
            if jwk.crv.as_deref() != Some("Ed25519") {
                return Err(format!("unsupported OKP curve {:?}", jwk.crv));
            }
            let x = decode("x", jwk.x.as_ref())?;
            if x.len() != 32 {
                return Err("Ed25519 key must be 32 bytes".into());
            }
            (
                vec![Algorithm::EdDSA],
                Box::new(move |alg| public_key(alg, &x)),
            )
        }
        "oct" => return Err("symmetric keys are never taken from a JWKS".into()),
        other => return Err(format!("unknown kty {other:?}")),
    };
    let algs: Vec<Algorithm> = match declared {
        Some(alg) if candidates.contains(&alg) => vec![alg],
        Some(alg) => {
            return Err(format!(
                "alg {} does not fit a {kty} key",
                algorithm::name_of(alg)
            ));
        }
        None => candidates,
    };
    algs.into_iter()
        .map(|alg| {
            Ok(BoundKey {
                kid: jwk.kid.clone(),
                alg,
                key: build(alg)?,
            })
        })
        .collect()
}

fn public_key(alg: Algorithm, bytes: &[u8]) -> Result<ParsedPublicKey, String> {
    let verification = algorithm::public_key_algorithm(alg).ok_or("not an asymmetric algorithm")?;
    ParsedPublicKey::new(verification, bytes).map_err(|e| format!("invalid public key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> serde_json::Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn bad_entries_are_skipped_not_fatal() {
        // A point that is not on P-256: x = 1, y = 1.
        let mut one = vec![0u8; 32];
        one[31] = 1;
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let set = KeySet::from_jwks(&doc(json!({"keys": [
            {"kty": "weird", "kid": "a"},
            {"kty": "RSA", "use": "enc", "kid": "b", "n": "AQAB", "e": "AQAB"},
            {"kty": "oct", "kid": "c", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "short", "n": b(&[0xff; 128]), "e": "AQAB"},
            {"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": b(&one), "y": b(&one)},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            "not an object",
        ]})))
        .expect("set parses");
        assert!(set.is_empty());
        assert_eq!(set.skipped().len(), 7, "{:?}", set.skipped());
        assert!(KeySet::from_jwks(&doc(json!({"nokeys": []}))).is_err());
    }
}
