//! Decoding of the library's own value types by sqlx (feature `sqlx`), so
//! that they, and `Option`s of them, are fields of `sqlx::FromRow` rows.
//!
//! Each decodes through the type it wraps, on whichever database decodes
//! that type, and then checks what the wrapper promises (a typed
//! document's shape, a network's zero host bits). Only sqlx's traits are
//! named here, never a driver, except sqlx-postgres's interval, which no
//! other type decodes.

use sqlx_core::database::Database;
use sqlx_core::decode::Decode;
use sqlx_core::error::BoxDynError;
use sqlx_core::types::Type;

/// `Type` and `Decode` of a wrapper through the type it wraps, and a
/// conversion that may refuse the decoded value.
macro_rules! decode_through {
    ($(@[$($generic:ident $(: $bound:path)?),*])? $ty:ty => $inner:ty, |$value:ident| $convert:expr) => {
        impl<DB: Database $($(, $generic)*)?> Type<DB> for $ty
        where
            $inner: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <$inner as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <$inner as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database $($(, $generic $(: $bound)?)*)?> Decode<'r, DB> for $ty
        where
            $inner: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let $value = <$inner as Decode<'r, DB>>::decode(value)?;
                $convert
            }
        }
    };
}

// A typed document: an error for a document of another shape.
#[cfg(feature = "json")]
decode_through! {
    @[T: serde::de::DeserializeOwned] crate::Json<T> => serde_json::Value,
    |document| Ok(crate::Json::try_from(document)?)
}

#[cfg(feature = "json")]
decode_through! {
    crate::PlainJson => serde_json::Value,
    |document| Ok(crate::PlainJson(document))
}

// A network: an error for host bits set (an `inet` column read as `cidr`).
#[cfg(feature = "ipnetwork")]
decode_through! {
    crate::Cidr => ipnetwork::IpNetwork,
    |network| Ok(crate::Cidr::new(network)?)
}

#[cfg(feature = "interval")]
decode_through! {
    crate::Interval => sqlx_postgres::types::PgInterval,
    |interval| Ok(crate::Interval::new(interval.months, interval.days, interval.microseconds))
}
