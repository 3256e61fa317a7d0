//! Whom a statement is built for, and the tenant predicate that follows.

use sea_query::Value;

use crate::BuildError;
use crate::capability::CrossTenant;
use crate::column_type::ColumnType;
use crate::meta::{SqlType, TableMeta};
use crate::statement::StatementScope;
use crate::tenant::{KeyValue, TenantKey, TenantWitness};

impl StatementScope {
    /// The scope of a witness.
    pub(crate) fn of_witness<K: TenantKey>(tenant: &impl TenantWitness<K>) -> Self {
        StatementScope::Tenant(tenant.tenant().key_value())
    }

    /// The scope of a cross-tenant statement on `table`. Making one is
    /// logged, with the capability's reason, next to the capability's own
    /// creation event.
    pub(crate) fn across_tenants(capability: &CrossTenant, table: &'static TableMeta) -> Self {
        tracing::debug!(
            target: "tenancy::cross_tenant",
            reason = capability.reason(),
            table = table.name,
            "cross-tenant statement started"
        );
        StatementScope::AllTenants
    }

    /// The value the tenant column of `table` is compared with in this
    /// scope: `Ok(None)` when the table is global or the scope spans all
    /// tenants. A scoped table in a global statement, or one keyed by
    /// another key type than the witness, is an error: never silently
    /// unscoped.
    pub(crate) fn tenant_value(
        self,
        table: &'static TableMeta,
        statement_table: &'static TableMeta,
    ) -> Result<Option<Value>, BuildError> {
        let Some(tenant) = table.tenant else {
            return Ok(None);
        };
        match self {
            StatementScope::Tenant(key) => tenant_key(table, tenant.sql_type, key).map(Some),
            StatementScope::AllTenants => Ok(None),
            StatementScope::Global => Err(BuildError::ScopedTableWithoutTenant {
                table: table.name,
                outer: statement_table.name,
            }),
        }
    }
}

/// The scope of a statement made of parts (the members of a union, the
/// body of a CTE): a tenant's (or all tenants') when a part is, since parts
/// on global tables only fit any statement. Parts of two different scopes
/// keep the first; building the statement refuses the other one.
pub(crate) fn combine(
    first: Option<StatementScope>,
    second: Option<StatementScope>,
) -> Option<StatementScope> {
    match (first, second) {
        (None | Some(StatementScope::Global), other) => other.or(first),
        (kept, _) => kept,
    }
}

/// `key` as the bound value of `table`'s tenant column, whose type is
/// `column_type`; a key of another type is refused.
pub(crate) fn tenant_key(
    table: &'static TableMeta,
    column_type: SqlType,
    key: KeyValue,
) -> Result<Value, BuildError> {
    if column_type == key_sql_type(key) {
        Ok(key_to_value(key))
    } else {
        Err(BuildError::TenantKeyMismatch {
            table: table.name,
            column_type,
            key,
            key_type: key_type_name(key),
        })
    }
}

/// Refuses an INSERT or UPDATE that names the tenant column among the
/// columns it assigns. The typed API cannot (the tenant column is not
/// `Assignable`, and `InsertRow` impls are generated); this stays as a check
/// of the statement itself, independent of the types. Names are compared
/// ignoring ASCII case: SQLite resolves `"TENANT_ID"` to the column
/// `tenant_id`, quoted or not.
pub(crate) fn refuse_tenant_column(
    table: &'static str,
    tenant: &'static str,
    columns: &[&'static str],
) -> Result<(), BuildError> {
    match columns
        .iter()
        .find(|column| column.eq_ignore_ascii_case(tenant))
    {
        Some(column) => Err(BuildError::TenantColumnAssigned { table, column }),
        None => Ok(()),
    }
}

/// A key as a bound parameter.
fn key_to_value(key: KeyValue) -> Value {
    match key {
        KeyValue::I32(key) => key.into(),
        KeyValue::I64(key) => key.into(),
        #[cfg(feature = "uuid")]
        KeyValue::Uuid(key) => key.into(),
    }
}

/// The column type of tenant columns keyed like `key`.
fn key_sql_type(key: KeyValue) -> SqlType {
    match key {
        KeyValue::I32(_) => <i32 as ColumnType>::SQL_TYPE,
        KeyValue::I64(_) => <i64 as ColumnType>::SQL_TYPE,
        #[cfg(feature = "uuid")]
        KeyValue::Uuid(_) => <uuid::Uuid as ColumnType>::SQL_TYPE,
    }
}

fn key_type_name(key: KeyValue) -> &'static str {
    match key {
        KeyValue::I32(_) => "i32",
        KeyValue::I64(_) => "i64",
        #[cfg(feature = "uuid")]
        KeyValue::Uuid(_) => "UUID",
    }
}
