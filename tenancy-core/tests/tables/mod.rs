//! Tables for the builder tests, declared as `#[tenant_scoped]` and
//! `#[global_table]` generate them: a `static META` inside `fn meta()`, typed
//! associated column constants, and the marker traits. A small
//! `macro_rules!` writes the repetitive parts; it does not depend on the
//! proc macros, so these tests pin the runtime's behaviour on its own.

#![allow(dead_code, unused_imports)]

use tenancy_core::sea_query::Value;
use tenancy_core::{
    Column, ColumnMeta, ColumnType, GlobalTable, InsertRow, Table, TableMeta, TenantColumn,
    TenantColumnMeta, TenantScoped,
};

/// `table! { Name in schema, "table" [tenant("column": Key)] [indexes(&[..])] { CONST field: Type = "column" .flag()...; } }`
macro_rules! table {
    (
        $name:ident in $schema:expr, $table:literal $(tenant($tenant:literal : $key:ty))? $(indexes($indexes:expr))? {
            $( $konst:ident $field:ident : $ty:ty = $column:literal $(. $flag:ident ( $($arg:expr)? ))* ; )*
        }
    ) => {
        #[derive(Clone, Debug, Default)]
        pub struct $name {
            $( pub $field: $ty, )*
        }

        impl $name {
            $( pub const TENANT: TenantColumn<$name> = TenantColumn::new($tenant); )?
            $( pub const $konst: Column<$name, $ty> = Column::new($column); )*
        }

        impl Table for $name {
            fn meta() -> &'static TableMeta {
                static COLUMNS: &[ColumnMeta] = &[
                    $(
                        ColumnMeta::new(
                            $column,
                            stringify!($field),
                            <$ty as ColumnType>::SQL_TYPE,
                            <$ty as ColumnType>::NULLABLE,
                        ) $(. $flag ( $($arg)? ))*,
                    )*
                ];
                static META: TableMeta = TableMeta::new(
                    $schema,
                    $table,
                    table!(@tenant $($tenant : $key)?),
                    COLUMNS,
                    table!(@indexes $($indexes)?),
                );
                &META
            }
        }

        table!(@marker $name $($key)?);
    };
    (@tenant $tenant:literal : $key:ty) => { Some(TenantColumnMeta::new::<$key>($tenant)) };
    (@tenant) => { None };
    (@marker $name:ident $key:ty) => {
        impl TenantScoped for $name {
            type Key = $key;
        }
    };
    (@marker $name:ident) => {
        impl GlobalTable for $name {}
    };
    (@indexes $indexes:expr) => { $indexes };
    (@indexes) => { &[] };
}

// ---- keyed by i64 -------------------------------------------------------

table! {
    Order in None, "orders" tenant("tenant_id": i64) {
        ID id: i64 = "id" .primary_key() .generated();
        CUSTOMER_ID customer_id: i64 = "customer_id" .references(Customer::meta);
        STATUS status: String = "status" .indexed();
        TOTAL total: i64 = "total";
        NOTE note: Option<String> = "note";
    }
}

table! {
    Customer in None, "customers" tenant("tenant_id": i64) {
        ID id: i64 = "id" .primary_key() .generated();
        NAME name: String = "name" .unique();
        REGION region: Option<String> = "region";
        PLAN_ID plan_id: i64 = "plan_id" .references(Plan::meta);
    }
}

table! {
    Line in None, "order_lines" tenant("tenant_id": i64) indexes(&[&["sku", "qty"]]) {
        ORDER_ID order_id: i64 = "order_id" .primary_key() .references(Order::meta);
        LINE_NO line_no: i32 = "line_no" .primary_key();
        SKU sku: String = "sku";
        QTY qty: i64 = "qty";
        GIFT_NOTE gift_note: Option<String> = "gift_note";
    }
}

table! {
    Invoice in Some("billing"), "invoices" tenant("tenant_id": i64) {
        ID id: i64 = "id" .primary_key();
        ORDER_ID order_id: i64 = "order_id" .references(Order::meta) .indexed();
        STATE state: String = "state";
        AMOUNT amount: i64 = "amount";
        MEMO memo: Option<String> = "memo";
    }
}

// ---- keyed by i32 -------------------------------------------------------

table! {
    Account in None, "accounts" tenant("org_id": i32) {
        ID id: i32 = "id" .primary_key() .generated();
        NAME name: String = "name";
        PLAN_ID plan_id: i64 = "plan_id" .references(Plan::meta);
        CREDITS credits: i64 = "credits";
        CLOSED_REASON closed_reason: Option<String> = "closed_reason";
    }
}

table! {
    Member in None, "members" tenant("org_id": i32) {
        ID id: i32 = "id" .primary_key();
        ACCOUNT_ID account_id: i32 = "account_id" .references(Account::meta);
        EMAIL email: String = "email" .unique();
        SCORE score: i64 = "score";
        NICK nick: Option<String> = "nick";
    }
}

// ---- keyed by UUID (feature `uuid`) ---------------------------------------

#[cfg(feature = "uuid")]
pub use uuid_keyed::Device;

#[cfg(feature = "uuid")]
mod uuid_keyed {
    use super::*;
    use uuid::Uuid;

    table! {
        Device in None, "devices" tenant("workspace_id": Uuid) {
            ID id: i64 = "id" .primary_key();
            NAME name: String = "name";
            BATTERY battery: i64 = "battery";
            LABEL label: Option<String> = "label";
        }
    }
}

// ---- global -------------------------------------------------------------

table! {
    Plan in None, "plans" {
        ID id: i64 = "id" .primary_key();
        NAME name: String = "name" .unique();
        PRICE price: i64 = "price";
        BLURB blurb: Option<String> = "blurb";
    }
}

table! {
    Country in None, "countries" {
        ID id: i64 = "id" .primary_key();
        CODE code: String = "code" .unique();
        POPULATION population: i64 = "population";
        CAPITAL capital: Option<String> = "capital";
    }
}

// ---- rows from structs --------------------------------------------------

impl InsertRow for Order {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("customer_id", self.customer_id.into()),
            ("status", self.status.clone().into()),
            ("total", self.total.into()),
            ("note", self.note.clone().into()),
        ]
    }
}

impl InsertRow for Plan {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("id", self.id.into()),
            ("name", self.name.clone().into()),
            ("price", self.price.into()),
            ("blurb", self.blurb.clone().into()),
        ]
    }
}
