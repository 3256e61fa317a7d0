//! Items that generated code calls. Not public API: names and signatures may
//! change in any release.

pub use core::option::Option::{None, Some};
pub use sea_query::Value;

/// The reference of `#[tenant_scoped]`, kept with the macro, whose examples
/// run here: a proc-macro crate cannot run examples of its own expansion.
#[cfg(doctest)]
#[doc = include_str!("../../tenancy-macros/docs/tenant_scoped.md")]
pub struct TenantScopedReference;

/// The reference of `#[global_table]`, run here for the same reason.
#[cfg(doctest)]
#[doc = include_str!("../../tenancy-macros/docs/global_table.md")]
pub struct GlobalTableReference;

#[cfg(test)]
mod tests {
    use crate::{Table, TenantScoped, global_table, tenant_scoped};

    #[tenant_scoped]
    struct Note {
        tenant_id: i32,
        #[tenancy(primary_key)]
        id: i64,
    }

    #[global_table]
    struct Country {
        #[tenancy(primary_key)]
        code: String,
    }

    #[test]
    fn the_macros_expand_inside_this_crate() {
        let note = Note {
            tenant_id: 1,
            id: 2,
        };
        assert_eq!((note.tenant_id, note.id), (1, 2));
        assert_eq!(Note::meta().name, "notes");
        let _: <Note as TenantScoped>::Key = 7_i32;
        let country = Country { code: "NZ".into() };
        assert_eq!(country.code, "NZ");
        assert!(!Country::meta().is_scoped());
    }
}
