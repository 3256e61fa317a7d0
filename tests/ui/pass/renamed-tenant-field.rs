// Any field can be the tenant column when marked `#[tenancy(tenant)]`; a
// field named `tenant_id` is then not needed.
use tenancy_core::{BuildStatement, TenantId, tenant_scoped};

#[tenant_scoped]
pub struct Project {
    #[tenancy(tenant)]
    pub workspace_id: i64,
    #[tenancy(primary_key)]
    pub id: i64,
    pub name: String,
}

#[tenant_scoped]
pub struct Task {
    #[tenancy(tenant, rename = "workspace")]
    pub owner: i64,
    #[tenancy(primary_key)]
    pub id: i64,
}

fn main() -> Result<(), tenancy_core::BuildError> {
    let tenant = TenantId::from_verified(5);
    let sql = Project::select(&tenant).to_postgres()?.into_parts().0;
    assert_eq!(
        sql,
        r#"SELECT "projects"."workspace_id", "projects"."id", "projects"."name" FROM "public"."projects" WHERE "projects"."workspace_id" = $1"#
    );
    let sql = Task::insert(&tenant).set(Task::ID, 1).to_postgres()?.into_parts().0;
    assert_eq!(
        sql,
        r#"INSERT INTO "public"."tasks" ("workspace", "id") VALUES ($1, $2)"#
    );
    assert_eq!(Task::OWNER.name(), "workspace");
    Ok(())
}
