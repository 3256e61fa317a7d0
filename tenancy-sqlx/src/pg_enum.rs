//! `pg_enum!` with sqlx encoding and decoding, from the one declaration.
//!
//! The per-backend impls come from helper macros defined here under this
//! crate's features: a `#[cfg(feature = ..)]` written inside the exported
//! macro would be evaluated in the user's crate, against its features.

/// Declares a Rust enum as a PostgreSQL enum column type, as
/// [`tenancy_core::pg_enum!`](macro@tenancy_core::pg_enum) does (the
/// column type, the label of each variant, the type created by
/// [`OwnerPool::apply_schema`](crate::OwnerPool::apply_schema)), and
/// implements sqlx's `Type`, `Encode` and `Decode` from the same name and
/// labels, so a row type with the enum reads `SELECT *` with `FromRow`:
///
/// - PostgreSQL (feature `postgres`): the enum type by its declared name
///   (a column of that type, or `TEXT` holding a label);
/// - SQLite (feature `sqlite`): `TEXT` holding the label.
///
/// A value that is not one of the labels is a decode error naming the
/// value, the type and the Rust enum, never a panic.
///
/// ```
/// # #[cfg(not(feature = "testing"))] fn main() {}
/// # #[cfg(feature = "testing")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_sqlx::testing::TestDatabase;
/// use tenancy_sqlx::{pg_enum, CrossTenant, OwnerPool, Postgres, TenantId, TenantPool, TenantPoolOptions};
/// use tenancy_sqlx::{ddl::TableSet, rls::RlsPolicy, tenant_scoped};
///
/// pg_enum! {
///     /// Where a ticket is in its life.
///     pub enum TicketState as "ticket_state" {
///         /// Waiting for an answer.
///         Open = "open",
///         /// Answered.
///         Closed = "closed",
///     }
/// }
///
/// #[tenant_scoped]
/// #[derive(Debug, PartialEq, sqlx::FromRow)]
/// pub struct Ticket {
///     pub tenant_id: i64,
///     #[tenancy(primary_key)]
///     pub id: i64,
///     pub state: TicketState,
/// }
///
/// let db = TestDatabase::create().await?;
/// let tables = TableSet::new().with::<Ticket>();
/// let owner = OwnerPool::from_pool(db.owner_pool().await?, CrossTenant::with_reason("docs")?);
/// // Creates the type `public.ticket_state`, then the table.
/// owner.apply_schema(&tables, &RlsPolicy::for_role(tenancy_sqlx::testing::APP_ROLE)?).await?;
///
/// let pool = TenantPool::<Postgres>::connect(&db.app_url(), TenantPoolOptions::new(&tables)).await?;
/// let tenant = TenantId::from_verified(7_i64);
/// let mut tx = pool.begin(&tenant).await?;
/// let ticket = Ticket { tenant_id: 7, id: 1, state: TicketState::Closed };
/// tx.execute(Ticket::insert(&tenant).row(&ticket)).await?;
/// let closed: Vec<Ticket> = tx
///     .fetch_all(Ticket::select(&tenant).filter(Ticket::STATE.eq(TicketState::Closed)))
///     .await?;
/// assert_eq!(closed, [ticket]);
/// tx.commit().await?;
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! pg_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident as $schema:literal . $type_name:literal {
            $($(#[$variant_attr:meta])* $variant:ident = $label:literal),+ $(,)?
        }
    ) => {
        $crate::__core_pg_enum! {
            $(#[$attr])* $vis enum $name as $schema . $type_name {
                $($(#[$variant_attr])* $variant = $label),+
            }
        }
        $crate::__pg_enum_postgres!($name, ::core::concat!($schema, ".", $type_name));
        $crate::__pg_enum_sqlite!($name);
    };
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident as $type_name:literal {
            $($(#[$variant_attr:meta])* $variant:ident = $label:literal),+ $(,)?
        }
    ) => {
        $crate::__core_pg_enum! {
            $(#[$attr])* $vis enum $name as $type_name {
                $($(#[$variant_attr])* $variant = $label),+
            }
        }
        $crate::__pg_enum_postgres!($name, $type_name);
        $crate::__pg_enum_sqlite!($name);
    };
}

/// The error of decoding a value that is none of an enum's labels.
#[doc(hidden)]
#[must_use]
pub fn unknown_label(
    value: &str,
    enum_type: &'static tenancy_core::EnumType,
) -> Box<dyn std::error::Error + Send + Sync> {
    let type_name = match enum_type.schema {
        Some(schema) => format!("{schema}.{}", enum_type.name),
        None => enum_type.name.to_owned(),
    };
    format!(
        "{value:?} is not a label of PostgreSQL enum type `{type_name}` (Rust enum `{}`, labels {:?})",
        enum_type.type_name, enum_type.labels
    )
    .into()
}

#[cfg(feature = "postgres")]
#[doc(hidden)]
#[macro_export]
macro_rules! __pg_enum_postgres {
    ($name:ident, $sql_name:expr) => {
        impl $crate::__sqlx::Type<$crate::__sqlx::Postgres> for $name {
            fn type_info() -> $crate::__sqlx::postgres::PgTypeInfo {
                $crate::__sqlx::postgres::PgTypeInfo::with_name($sql_name)
            }

            fn compatible(ty: &$crate::__sqlx::postgres::PgTypeInfo) -> bool {
                $crate::__private_enum::postgres_compatible(ty, $name::SQL_ENUM)
            }
        }

        impl $crate::__sqlx::postgres::PgHasArrayType for $name {
            fn array_type_info() -> $crate::__sqlx::postgres::PgTypeInfo {
                $crate::__sqlx::postgres::PgTypeInfo::array_of($sql_name)
            }
        }

        impl<'q> $crate::__sqlx::Encode<'q, $crate::__sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut $crate::__sqlx::postgres::PgArgumentBuffer,
            ) -> ::core::result::Result<
                $crate::__sqlx::encode::IsNull,
                $crate::__sqlx::error::BoxDynError,
            > {
                <&str as $crate::__sqlx::Encode<'q, $crate::__sqlx::Postgres>>::encode_by_ref(
                    &self.label(),
                    buf,
                )
            }
        }

        impl<'r> $crate::__sqlx::Decode<'r, $crate::__sqlx::Postgres> for $name {
            fn decode(
                value: $crate::__sqlx::postgres::PgValueRef<'r>,
            ) -> ::core::result::Result<Self, $crate::__sqlx::error::BoxDynError> {
                let text =
                    <&str as $crate::__sqlx::Decode<'r, $crate::__sqlx::Postgres>>::decode(value)?;
                $name::from_label(text)
                    .ok_or_else(|| $crate::__private_enum::unknown_label(text, $name::SQL_ENUM))
            }
        }
    };
}

#[cfg(not(feature = "postgres"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __pg_enum_postgres {
    ($($tokens:tt)*) => {};
}

#[cfg(feature = "sqlite")]
#[doc(hidden)]
#[macro_export]
macro_rules! __pg_enum_sqlite {
    ($name:ident) => {
        impl $crate::__sqlx::Type<$crate::__sqlx::Sqlite> for $name {
            fn type_info() -> $crate::__sqlx::sqlite::SqliteTypeInfo {
                <&str as $crate::__sqlx::Type<$crate::__sqlx::Sqlite>>::type_info()
            }

            fn compatible(ty: &$crate::__sqlx::sqlite::SqliteTypeInfo) -> bool {
                <&str as $crate::__sqlx::Type<$crate::__sqlx::Sqlite>>::compatible(ty)
            }
        }

        impl<'q> $crate::__sqlx::Encode<'q, $crate::__sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <$crate::__sqlx::Sqlite as $crate::__sqlx::Database>::ArgumentBuffer,
            ) -> ::core::result::Result<
                $crate::__sqlx::encode::IsNull,
                $crate::__sqlx::error::BoxDynError,
            > {
                <&str as $crate::__sqlx::Encode<'q, $crate::__sqlx::Sqlite>>::encode_by_ref(
                    &self.label(),
                    buf,
                )
            }
        }

        impl<'r> $crate::__sqlx::Decode<'r, $crate::__sqlx::Sqlite> for $name {
            fn decode(
                value: $crate::__sqlx::sqlite::SqliteValueRef<'r>,
            ) -> ::core::result::Result<Self, $crate::__sqlx::error::BoxDynError> {
                let text =
                    <&str as $crate::__sqlx::Decode<'r, $crate::__sqlx::Sqlite>>::decode(value)?;
                $name::from_label(text)
                    .ok_or_else(|| $crate::__private_enum::unknown_label(text, $name::SQL_ENUM))
            }
        }
    };
}

#[cfg(not(feature = "sqlite"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __pg_enum_sqlite {
    ($($tokens:tt)*) => {};
}

/// Whether a PostgreSQL column of type `ty` holds labels of `enum_type`:
/// the enum type by its name (unqualified when it is on `search_path`,
/// qualified otherwise), or text.
#[cfg(feature = "postgres")]
#[doc(hidden)]
#[must_use]
pub fn postgres_compatible(
    ty: &sqlx::postgres::PgTypeInfo,
    enum_type: &'static tenancy_core::EnumType,
) -> bool {
    use sqlx::TypeInfo as _;
    if <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty) {
        return true;
    }
    // `regtype` text: `ticket_state`, `support.ticket_state`, or with
    // quotes around a part that needs them.
    let name = ty.name();
    let (schema, type_name) = match name.rsplit_once('.') {
        Some((schema, type_name)) => (Some(schema.trim_matches('"')), type_name),
        None => (None, name),
    };
    type_name.trim_matches('"') == enum_type.name
        && match (schema, enum_type.schema) {
            (Some(found), Some(declared)) => found == declared,
            _ => true,
        }
}
