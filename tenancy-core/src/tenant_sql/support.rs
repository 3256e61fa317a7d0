//! What `tenant_sql!` expands to calls, re-exported through the versioned
//! private module: the tables' metadata in `const` items (from
//! `SealedTable`, which the table macros implement), the rules the
//! text's requirements are asserted with, the compile-time messages, the
//! witness and its key check, and the conversion of parameter values.
//!
//! Every check here is made by the compiler: the rules run in `const`
//! items (a failing one is a compile error with the message the macro
//! rendered), and the witness's key type is matched with each table's in
//! trait bounds.

use core::marker::PhantomData;

use sea_query::Value;

use super::{SqlTemplate, TenantSql};
use crate::__private_v0_1::SealedTable;
use crate::column_type::ColumnType;
use crate::meta::{Table, TableMeta};
use crate::tenant::{TenantId, TenantKey};

/// The key type of a global table: every witness's key type matches it.
pub enum AnyKey {}

/// Whether a table whose key type is `Self` may be named in a statement
/// whose witness is a `TenantId<K>`; `T` is the table, for the message.
#[diagnostic::on_unimplemented(
    message = "`{T}` is keyed by `{Self}`: it cannot be queried with a `TenantId<{K}>`",
    label = "this witness is a `TenantId<{K}>`",
    note = "every tenant table of a `tenant_sql!` statement must be keyed like its witness: `$tenant` is bound to the witness's key"
)]
pub trait Accepts<K, T> {}

impl<T> Accepts<i64, T> for i64 {}
impl<T> Accepts<i32, T> for i32 {}
#[cfg(feature = "uuid")]
impl<T> Accepts<uuid::Uuid, T> for uuid::Uuid {}
impl<K: TenantKey, T> Accepts<K, T> for AnyKey {}

/// A table of a statement, as `const` code can read it; `A` is its key
/// type, for [`Witnessed::table`].
pub struct Slot<T, A> {
    meta: fn() -> &'static TableMeta,
    tenant_column: Option<&'static str>,
    _table: PhantomData<fn() -> (T, A)>,
}

/// The table `T`: every use of a `{Type}` in the expansion goes through
/// this one function, so a type that is no table is reported once, by
/// `Table`'s own message.
#[must_use]
pub const fn slot<T: Table>() -> Slot<T, <T as SealedTable>::SqlKey> {
    Slot {
        meta: <T as Table>::meta,
        tenant_column: <T as SealedTable>::SQL_TENANT_COLUMN,
        _table: PhantomData,
    }
}

impl<T, A> Slot<T, A> {
    /// The function that returns the table's metadata.
    #[must_use]
    pub const fn meta(&self) -> fn() -> &'static TableMeta {
        self.meta
    }

    /// The tenant column's SQL name; `None` for a global table.
    #[must_use]
    pub const fn tenant_column(&self) -> Option<&'static str> {
        self.tenant_column
    }
}

/// What can be the first argument of `tenant_sql!`: only a [`TenantId`],
/// whose key type is `K`. (The key type is a parameter rather than an
/// associated type so that a value that is no witness is one error, not
/// one more for its key type.)
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tenant witness",
    label = "expected `&TenantId<..>` here",
    note = "the first argument of `tenant_sql!` is the verified tenant the statement is for: `&TenantId::from_verified(key)` made by your authentication layer, or `tx.tenant()`",
    note = "a raw key, a string or the cross-tenant capability is not a witness"
)]
pub trait Witness<K: TenantKey> {
    /// The witnessed tenant.
    fn tenant(&self) -> TenantId<K>;
}

impl<K: TenantKey> Witness<K> for TenantId<K> {
    fn tenant(&self) -> TenantId<K> {
        *self
    }
}

/// The witness of a statement, whose key type each table is checked
/// against.
pub struct Witnessed<K: TenantKey> {
    tenant: TenantId<K>,
}

/// Starts a statement for `tenant`.
pub fn witness<K: TenantKey, W: Witness<K> + ?Sized>(tenant: &W) -> Witnessed<K> {
    Witnessed {
        tenant: tenant.tenant(),
    }
}

impl<K: TenantKey> Witnessed<K> {
    /// Checks at compile time that `table` may be named with this witness:
    /// a global table, or a tenant table keyed by `K`.
    #[must_use]
    pub fn table<T, A: Accepts<K, T>>(self, _table: Slot<T, A>) -> Self {
        self
    }

    /// The statement, with a value for each named parameter in the order
    /// of the template's.
    pub fn statement<const N: usize>(
        self,
        template: &'static SqlTemplate<N>,
        values: [Value; N],
    ) -> TenantSql {
        TenantSql::new(template, self.tenant, values)
    }
}

/// A Rust value `tenant_sql!` can bind to a `$name` parameter: a value of
/// one of the library's column types (it converts as a column's value
/// would), or a borrowed string or byte string.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be bound to a `tenant_sql!` parameter",
    label = "not a column type of tenancy",
    note = "a parameter is a value of a column type (`i64`, `i32`, `f64`, `bool`, `String`, `Vec<u8>`, `Option<..>` of one, `uuid::Uuid` and `chrono` types with their features), or `&str`, `&String`, `&[u8]`, `&Vec<u8>`, `Option<&str>`; pass other references by value (`id = *id`) or convert them"
)]
pub trait SqlParam {
    /// The value as a bound parameter.
    fn into_param(self) -> Value;
}

impl<T: ColumnType> SqlParam for T {
    fn into_param(self) -> Value {
        self.into_value()
    }
}

impl SqlParam for &str {
    fn into_param(self) -> Value {
        self.to_owned().into_value()
    }
}

impl SqlParam for &String {
    fn into_param(self) -> Value {
        self.clone().into_value()
    }
}

impl SqlParam for Option<&str> {
    fn into_param(self) -> Value {
        self.map(str::to_owned).into_value()
    }
}

impl SqlParam for &[u8] {
    fn into_param(self) -> Value {
        self.to_vec().into_value()
    }
}

impl SqlParam for &Vec<u8> {
    fn into_param(self) -> Value {
        self.clone().into_value()
    }
}

/// `value` as a bound parameter.
pub fn param<V: SqlParam>(value: V) -> Value {
    value.into_param()
}

/// Whether a table whose tenant column is `tenant_column` (`None` for a
/// global table) is confined by top-level conjuncts `<alias>.<column> =
/// $tenant` on `columns` (or, for an `INSERT`, gives `$tenant` to
/// `columns`). Names are compared exactly: the macro gives the columns as
/// the database stores them (unquoted names folded to lower case).
///
/// The rules are `tenancy-sql`'s own (`tenancy_sql::tenant_column_in` and
/// `tenant_column_is_not`), written again here because generated code can
/// only name this crate, which does not depend on the SQL parser; a test
/// holds the two equal.
#[must_use]
pub const fn tenant_column_in(tenant_column: Option<&str>, columns: &[&str]) -> bool {
    let Some(tenant_column) = tenant_column else {
        return true;
    };
    let mut at = 0;
    while at < columns.len() {
        if same(tenant_column, columns[at]) {
            return true;
        }
        at += 1;
    }
    false
}

/// Whether a table whose tenant column is `tenant_column` may have
/// `column` assigned: any column but the tenant column.
#[must_use]
pub const fn tenant_column_is_not(tenant_column: Option<&str>, column: &str) -> bool {
    match tenant_column {
        Some(tenant_column) => !same(tenant_column, column),
        None => true,
    }
}

/// Byte-wise equality, which `const fn` can compute (`==` on `str` cannot).
pub(crate) const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut at = 0;
    while at < a.len() {
        if a[at] != b[at] {
            return false;
        }
        at += 1;
    }
    true
}

/// The tenant column's name for a message: the failing rules are those of
/// tenant tables, which have one.
#[must_use]
pub const fn column_or_placeholder(tenant_column: Option<&'static str>) -> &'static str {
    match tenant_column {
        Some(column) => column,
        None => "<tenant column>",
    }
}

/// The length of `parts` joined by `column`.
#[must_use]
pub const fn message_len(parts: &[&str], column: &str) -> usize {
    let mut len = 0;
    let mut at = 0;
    while at < parts.len() {
        if at > 0 {
            len += column.len();
        }
        len += parts[at].len();
        at += 1;
    }
    len
}

/// `parts` joined by `column`, as bytes: a message the macro rendered with
/// the tenant column left out, completed with the column's name from the
/// table's metadata. `N` is [`message_len`].
#[must_use]
pub const fn message<const N: usize>(parts: &[&str], column: &str) -> [u8; N] {
    let mut out = [0; N];
    let mut end = 0;
    let mut at = 0;
    while at < parts.len() {
        if at > 0 {
            end = copy(&mut out, end, column.as_bytes());
        }
        end = copy(&mut out, end, parts[at].as_bytes());
        at += 1;
    }
    out
}

const fn copy<const N: usize>(out: &mut [u8; N], mut end: usize, bytes: &[u8]) -> usize {
    let mut at = 0;
    while at < bytes.len() && end < N {
        out[end] = bytes[at];
        end += 1;
        at += 1;
    }
    end
}

/// The message [`message`] built. Joined from whole strings, it is UTF-8;
/// were it not, the message would be empty rather than wrong.
#[must_use]
pub const fn message_str(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert!(tenant_column_in(Some("org_id"), &["tenant_id", "org_id"]));
        assert!(!tenant_column_in(Some("org_id"), &["tenant_id"]));
        assert!(!tenant_column_in(Some("org_id"), &[]));
        assert!(!tenant_column_in(Some("org_id"), &["org_i"]));
        assert!(!tenant_column_in(Some("org_id"), &["ORG_ID"]));
        assert!(tenant_column_in(None, &[]));
        assert!(tenant_column_is_not(Some("org_id"), "status"));
        assert!(!tenant_column_is_not(Some("org_id"), "org_id"));
        assert!(tenant_column_is_not(None, "org_id"));
    }

    /// The rules are `tenancy-sql`'s, whose checker made the columns.
    #[test]
    fn rules_agree_with_the_checker_s() {
        let names = ["tenant_id", "org_id", "Tenant_ID", "tenant_i", "", "é"];
        let lists: [&[&str]; 5] = [
            &[],
            &["tenant_id"],
            &["org_id", "tenant_id"],
            &["TENANT_ID"],
            &["", "é"],
        ];
        for column in names.iter().copied().map(Some).chain([None]) {
            for list in lists {
                assert_eq!(
                    tenant_column_in(column, list),
                    tenancy_sql::tenant_column_in(column, list),
                    "{column:?} in {list:?}"
                );
            }
            for other in names {
                assert_eq!(
                    tenant_column_is_not(column, other),
                    tenancy_sql::tenant_column_is_not(column, other),
                    "{column:?} is not {other:?}"
                );
            }
        }
    }

    #[test]
    fn messages_join_their_parts_with_the_column() {
        const PARTS: &[&str] = &["add `AND o.", " = $tenant` (not `", "`)"];
        const LEN: usize = message_len(PARTS, "org_id");
        const BYTES: [u8; LEN] = message::<LEN>(PARTS, "org_id");
        assert_eq!(
            message_str(&BYTES),
            "add `AND o.org_id = $tenant` (not `org_id`)"
        );
        const ONE: [u8; 3] = message::<3>(&["abc"], "x");
        assert_eq!(message_str(&ONE), "abc");
        assert_eq!(message_str(&message::<0>(&[], "x")), "");
        assert_eq!(column_or_placeholder(None), "<tenant column>");
        assert_eq!(column_or_placeholder(Some("org_id")), "org_id");
    }

    #[test]
    fn parameters_convert_as_column_values() {
        assert_eq!(param("open"), Value::from("open".to_owned()));
        let owned = "open".to_owned();
        assert_eq!(param(&owned), Value::from("open".to_owned()));
        assert_eq!(param(Some("x")), Value::from(Some("x".to_owned())));
        assert_eq!(param(None::<&str>), Value::String(None));
        assert_eq!(param(&b"ab"[..]), Value::from(b"ab".to_vec()));
        let bytes = b"ab".to_vec();
        assert_eq!(param(&bytes), Value::from(b"ab".to_vec()));
        assert_eq!(param(7_i64), Value::from(7_i64));
        assert_eq!(param(None::<i32>), Value::Int(None));
    }
}
