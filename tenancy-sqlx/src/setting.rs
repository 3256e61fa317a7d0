//! The name of the setting that carries the tenant (`app.tenant_id`), and the
//! text form of a key in the `SET LOCAL` that opens a tenant transaction.

use tenancy_core::KeyValue;
pub(crate) use tenancy_core::SettingName;

use crate::Error;
use crate::ident::truncate_for_error;

/// The key as the text placed in `SET LOCAL .. = '<key>'`.
///
/// Keys are integers or UUIDs (`TenantKey` is sealed), so their text is
/// digits, hex letters and `-`. That is checked here as well, so that no
/// future key type can put a quote into the statement.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
pub(crate) fn key_literal(key: KeyValue) -> Result<String, Error> {
    let mut text = String::new();
    push_key_literal(&mut text, key)?;
    Ok(text)
}

/// [`key_literal`], appended to `sql` (which is left as it was if the key
/// is refused): the `BEGIN` of every transaction renders the key in place.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // PostgreSQL only
pub(crate) fn push_key_literal(sql: &mut String, key: KeyValue) -> Result<(), Error> {
    use core::fmt::Write as _;

    let start = sql.len();
    // Writing to a String cannot fail.
    let _ = write!(sql, "{key}");
    let text = &sql[start..];
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        Ok(())
    } else {
        let key = truncate_for_error(text);
        sql.truncate(start);
        Err(Error::UnrenderableKey { key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_render_as_plain_text() {
        assert_eq!(key_literal(KeyValue::I64(-42)).unwrap(), "-42");
        assert_eq!(key_literal(KeyValue::I32(7)).unwrap(), "7");
        let mut sql = "SET LOCAL x = '".to_owned();
        push_key_literal(&mut sql, KeyValue::I64(i64::MIN)).unwrap();
        assert_eq!(sql, "SET LOCAL x = '-9223372036854775808");
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuid_keys_render_hyphenated() {
        let key = sqlx::types::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        assert_eq!(
            key_literal(KeyValue::Uuid(key)).unwrap(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
    }
}
