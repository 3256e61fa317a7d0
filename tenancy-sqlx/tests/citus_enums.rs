//! PostgreSQL enum types on a Citus coordinator: `apply_schema` creates the
//! type (Citus propagates it to the workers) before it distributes the
//! table, a label declared later is added, and a tenant's row with the enum
//! is written, read back and filtered on its worker.

#![allow(missing_docs, dead_code)] // the table structs and enums of the test

use tenancy_sqlx::ddl::TableSet;
use tenancy_sqlx::rls::RlsPolicy;
use tenancy_sqlx::testing::{APP_ROLE, CitusTestDatabase};
use tenancy_sqlx::{CrossTenant, TenantId};
use tenancy_test::TestResult;

mod v1 {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" { Open = "open", Closed = "closed" }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }
}

mod v2 {
    tenancy_sqlx::pg_enum! {
        pub enum State as "ticket_state" { Open = "open", Pending = "pending", Closed = "closed" }
    }

    #[tenancy_sqlx::tenant_scoped(table = "tickets")]
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    pub struct Ticket {
        pub tenant_id: i64,
        #[tenancy(primary_key)]
        pub id: i64,
        pub state: State,
    }
}

#[tokio::test]
async fn an_enum_column_is_created_distributed_extended_and_read_on_the_workers() -> TestResult {
    let db = CitusTestDatabase::create().await?;
    let capability = CrossTenant::with_reason("test set-up: enum types on Citus")?;
    let owner = db
        .coordinator()
        .library_owner_pool(capability, &TableSet::new())
        .await?;
    let policy = RlsPolicy::for_role(APP_ROLE)?;
    let v1_tables = TableSet::new().with::<v1::Ticket>();
    owner.apply_schema(&v1_tables, &policy).await?;
    owner.apply_schema(&v1_tables, &policy).await?;
    let v2_tables = TableSet::new().with::<v2::Ticket>();
    owner.apply_schema(&v2_tables, &policy).await?;

    let pool = db.coordinator().library_tenant_pool(&v2_tables).await?;
    let tenant = TenantId::from_verified(4_i64);
    let mut tx = pool.begin(&tenant).await?;
    let ticket = v2::Ticket {
        tenant_id: 4,
        id: 1,
        state: v2::State::Pending,
    };
    tx.execute(v2::Ticket::insert(&tenant).row(&ticket)).await?;
    let read: Vec<v2::Ticket> = tx
        .fetch_all(v2::Ticket::select(&tenant).filter(v2::Ticket::STATE.eq(v2::State::Pending)))
        .await?;
    assert_eq!(read, [ticket]);
    tx.commit().await?;
    Ok(())
}
