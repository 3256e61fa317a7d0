//! Tables for the documentation's examples, written out by hand as
//! `#[tenant_scoped]` and `#[global_table]` would generate them. Not public
//! API.

#![allow(missing_docs)]

use sea_query::Value;

use crate::column::{Column, TenantColumn};
use crate::meta::{
    ColumnMeta, GlobalTable, InsertRow, SqlType, Table, TableMeta, TenantColumnMeta, TenantScoped,
};

/// `orders`, scoped by an `i64` tenant.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub total: i64,
}

impl Order {
    pub const TENANT_ID: TenantColumn<Order> = TenantColumn::new("tenant_id");
    pub const ID: Column<Order, i64> = Column::new("id");
    pub const CUSTOMER_ID: Column<Order, i64> = Column::new("customer_id");
    pub const STATUS: Column<Order, String> = Column::new("status");
    pub const TOTAL: Column<Order, i64> = Column::new("total");
}

impl Table for Order {
    fn meta() -> &'static TableMeta {
        static COLUMNS: [ColumnMeta; 4] = [
            ColumnMeta::new("id", "id", SqlType::BigInt, false)
                .primary_key()
                .generated(),
            ColumnMeta::new("customer_id", "customer_id", SqlType::BigInt, false)
                .references(Customer::meta),
            ColumnMeta::new("status", "status", SqlType::Text, false).indexed(),
            ColumnMeta::new("total", "total", SqlType::BigInt, false),
        ];
        static META: TableMeta = TableMeta::new(
            None,
            "orders",
            Some(TenantColumnMeta::new::<i64>("tenant_id")),
            &COLUMNS,
            &[],
        );
        &META
    }
}

impl TenantScoped for Order {
    type Key = i64;
}

impl InsertRow for Order {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("customer_id", self.customer_id.into()),
            ("status", self.status.clone().into()),
            ("total", self.total.into()),
        ]
    }
}

/// `customers`, scoped by an `i64` tenant.
#[derive(Debug, Clone)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub plan_id: i64,
}

impl Customer {
    pub const TENANT_ID: TenantColumn<Customer> = TenantColumn::new("tenant_id");
    pub const ID: Column<Customer, i64> = Column::new("id");
    pub const NAME: Column<Customer, String> = Column::new("name");
    pub const PLAN_ID: Column<Customer, i64> = Column::new("plan_id");
}

impl Table for Customer {
    fn meta() -> &'static TableMeta {
        static COLUMNS: [ColumnMeta; 3] = [
            ColumnMeta::new("id", "id", SqlType::BigInt, false)
                .primary_key()
                .generated(),
            ColumnMeta::new("name", "name", SqlType::Text, false).unique(),
            ColumnMeta::new("plan_id", "plan_id", SqlType::BigInt, false).references(Plan::meta),
        ];
        static META: TableMeta = TableMeta::new(
            None,
            "customers",
            Some(TenantColumnMeta::new::<i64>("tenant_id")),
            &COLUMNS,
            &[],
        );
        &META
    }
}

impl TenantScoped for Customer {
    type Key = i64;
}

impl InsertRow for Customer {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("name", self.name.clone().into()),
            ("plan_id", self.plan_id.into()),
        ]
    }
}

/// `plans`, shared by all tenants.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: i64,
    pub name: String,
}

impl Plan {
    pub const ID: Column<Plan, i64> = Column::new("id");
    pub const NAME: Column<Plan, String> = Column::new("name");
}

impl Table for Plan {
    fn meta() -> &'static TableMeta {
        static COLUMNS: [ColumnMeta; 2] = [
            ColumnMeta::new("id", "id", SqlType::BigInt, false).primary_key(),
            ColumnMeta::new("name", "name", SqlType::Text, false).unique(),
        ];
        static META: TableMeta = TableMeta::new(None, "plans", None, &COLUMNS, &[]);
        &META
    }
}

impl GlobalTable for Plan {}

impl InsertRow for Plan {
    fn insert_values(&self) -> Vec<(&'static str, Value)> {
        vec![("id", self.id.into()), ("name", self.name.clone().into())]
    }
}
