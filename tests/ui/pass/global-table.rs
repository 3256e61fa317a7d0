// A global table's statements take no witness; its `tenant_id`-less rows
// belong to every tenant.
use tenancy_core::{BuildStatement, GlobalTable, Table, global_table};

#[global_table]
pub struct Country {
    #[tenancy(primary_key)]
    pub code: String,
    pub name: String,
}

fn is_global<T: GlobalTable>() -> bool {
    !T::meta().is_scoped()
}

fn main() -> Result<(), tenancy_core::BuildError> {
    assert!(is_global::<Country>());
    assert_eq!(Country::meta().name, "countries");
    let select = Country::select()
        .filter(Country::CODE.eq("NZ"))
        .to_postgres()?;
    assert_eq!(
        select.sql(),
        r#"SELECT "countries"."code", "countries"."name" FROM "public"."countries" WHERE "countries"."code" = $1"#
    );
    let insert = Country::insert()
        .row(&Country {
            code: "NZ".to_owned(),
            name: "New Zealand".to_owned(),
        })
        .to_postgres()?;
    assert_eq!(
        insert.sql(),
        r#"INSERT INTO "public"."countries" ("code", "name") VALUES ($1, $2)"#
    );
    let update = Country::update()
        .set(Country::NAME, "Aotearoa")
        .to_postgres()?;
    assert_eq!(update.sql(), r#"UPDATE "public"."countries" SET "name" = $1"#);
    let delete = Country::delete()
        .filter(Country::CODE.eq("XX"))
        .to_postgres()?;
    assert_eq!(
        delete.sql(),
        r#"DELETE FROM "public"."countries" WHERE "countries"."code" = $1"#
    );
    Ok(())
}
