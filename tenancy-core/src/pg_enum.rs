//! PostgreSQL enum types as column types.

/// Declares a Rust enum as a PostgreSQL enum column type: each variant has
/// its label, and the type has its (optionally schema-qualified) name.
///
/// A filter or an assignment binds the label as text and casts it to the
/// type by the name declared here — `CAST($1 AS "public"."ticket_state")` —
/// a name checked to be an identifier when the program is compiled, never
/// one taken from a value. On SQLite the column is `TEXT` holding the label.
///
/// The macro derives `Clone`, `Copy`, `Debug`, `PartialEq`, `Eq` and
/// `Hash`, and keeps other attributes. Use `tenancy_sqlx::pg_enum!`, which
/// takes the same input, to also encode and decode the enum with sqlx from
/// this one declaration (the PostgreSQL type by this name, SQLite `TEXT`).
///
/// The schema DDL ([`TableSet::create_statements`](crate::ddl::TableSet::create_statements),
/// and `OwnerPool::apply_schema` in tenancy-sqlx) creates the type before
/// the first table that uses it, unless it exists:
/// `CREATE TYPE "public"."ticket_state" AS ENUM ('open', 'closed')`. The
/// PostgreSQL adapter adds labels declared later, refuses labels removed
/// or reordered (PostgreSQL cannot drop a label), and its drift check
/// reports a column that does not have the type.
///
/// Labels are 1 to 63 bytes without a NUL byte (PostgreSQL's limit), none
/// repeated; any other character, a quote or a backslash included, is
/// written as a literal. Two enums that declare one type with different
/// labels are refused when their tables are registered together.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), tenancy_core::BuildError> {
/// use tenancy_core::{BuildStatement, Select, TenantId, pg_enum, tenant_scoped};
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
/// pub struct Ticket {
///     pub tenant_id: i64,
///     #[tenancy(primary_key)]
///     pub id: i64,
///     pub state: TicketState,
/// }
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let statement = Select::<Ticket>::scoped(&tenant)
///     .filter(Ticket::STATE.eq(TicketState::Open))
///     .to_postgres()?;
/// assert!(statement.sql().ends_with(
///     r#"WHERE "tickets"."tenant_id" = $1 AND "tickets"."state" = CAST($2 AS "public"."ticket_state")"#
/// ));
/// assert_eq!(TicketState::Closed.label(), "closed");
/// # Ok(())
/// # }
/// ```
///
/// A type name that is not an identifier does not compile:
///
/// ```compile_fail
/// tenancy_core::pg_enum! {
///     pub enum Hostile as "state\"; DROP TABLE orders; --" { A = "a" }
/// }
/// ```
///
/// Nor does an empty label, a label longer than 63 bytes, or a repeated one:
///
/// ```compile_fail
/// tenancy_core::pg_enum! {
///     pub enum Empty as "empty" { A = "" }
/// }
/// ```
///
/// ```compile_fail
/// tenancy_core::pg_enum! {
///     pub enum Twice as "twice" { A = "a", B = "a" }
/// }
/// ```
#[macro_export]
macro_rules! pg_enum {
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident as $schema:literal . $type_name:literal {
            $($(#[$variant_attr:meta])* $variant:ident = $label:literal),+ $(,)?
        }
    ) => {
        $crate::pg_enum! {
            @enum ($crate::__private_v0_1::Some($schema)) $(#[$attr])* $vis enum $name as $type_name {
                $($(#[$variant_attr])* $variant = $label),+
            }
        }
    };
    (
        $(#[$attr:meta])*
        $vis:vis enum $name:ident as $type_name:literal {
            $($(#[$variant_attr:meta])* $variant:ident = $label:literal),+ $(,)?
        }
    ) => {
        $crate::pg_enum! {
            @enum ($crate::__private_v0_1::None) $(#[$attr])* $vis enum $name as $type_name {
                $($(#[$variant_attr])* $variant = $label),+
            }
        }
    };
    (
        @enum ($schema:expr) $(#[$attr:meta])* $vis:vis enum $name:ident as $type_name:literal {
            $($(#[$variant_attr:meta])* $variant:ident = $label:literal),+
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$variant_attr])* $variant),+
        }

        impl $name {
            /// The PostgreSQL enum type, its name checked when the program
            /// is compiled.
            pub const SQL_ENUM: &'static $crate::EnumType = &$crate::__private_v0_1::enum_type(
                ::core::concat!(::core::module_path!(), "::", ::core::stringify!($name)),
                $schema,
                $type_name,
                &[$($label),+],
            );

            /// The variant's label in the database.
            #[must_use]
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The variant whose label is `label` (compared exactly), or
            /// `None`.
            #[must_use]
            pub fn from_label(label: &str) -> ::core::option::Option<Self> {
                $(
                    if label == $label {
                        return ::core::option::Option::Some($name::$variant);
                    }
                )+
                ::core::option::Option::None
            }
        }

        // Checks the name when the program is compiled, used or not.
        const _: &'static $crate::EnumType = $name::SQL_ENUM;

        impl $crate::__private_v0_1::SealedColumnType for $name {}

        impl $crate::ColumnType for $name {
            const SQL_TYPE: $crate::SqlType = $crate::SqlType::Enum(Self::SQL_ENUM);
            type Compare = $name;
            type Nullable = ::core::option::Option<$name>;
            type Or<W: $crate::ColumnType<Compare = $name>> = W;
            type Coalesce<W: $crate::ColumnType<Compare = $name>> = $name;
            type Rebase<B: $crate::ColumnType<Compare = B> + $crate::Bind> = B;
            fn into_value(self) -> $crate::__private_v0_1::Value {
                $crate::__private_v0_1::Value::String($crate::__private_v0_1::Some(
                    ::std::borrow::ToOwned::to_owned(self.label()),
                ))
            }
            fn null_value() -> $crate::__private_v0_1::Value {
                $crate::__private_v0_1::Value::String($crate::__private_v0_1::None)
            }
        }

        impl $crate::__private_v0_1::SealedBind for $name {
            fn bind_value(self) -> $crate::__private_v0_1::Value {
                <$name as $crate::ColumnType>::into_value(self)
            }
        }

        impl $crate::Bind for $name {
            type Type = $name;
        }

        impl $crate::Comparable for $name {}
    };
}
