//! The operators of JSON, network address and array columns: what a
//! filter on such a column needs beyond `=`.
//!
//! Each is typed by its column's type, so `Device::ADDRESS.is_within("..")`
//! (an `inet` column and a `&str`) does not compile: a network is an
//! `ipnetwork::IpNetwork`. Keys, documents, networks and elements are bound
//! as parameters of the column's own type. The operators that SQLite does
//! not have (`@>`, `?`, `<<`, `= ANY`, ...) are refused when a statement is
//! built for SQLite, with [`BuildError::UnsupportedInDialect`](crate::BuildError).

#[cfg(any(
    feature = "json",
    feature = "ipnetwork",
    feature = "array",
    feature = "interval"
))]
use super::*;
#[cfg(feature = "array")]
use crate::column_type::ArrayColumn;
#[cfg(feature = "ipnetwork")]
use crate::column_type::NetworkColumn;
#[cfg(feature = "interval")]
use crate::column_type::TimestampColumn;
#[cfg(feature = "json")]
use crate::column_type::{JsonColumn, JsonbColumn};
#[cfg(any(feature = "json", feature = "interval"))]
use crate::query::expr::ArithOp;

#[cfg(any(feature = "json", feature = "ipnetwork", feature = "array"))]
fn operator(left: ExprNode, op: CompareOp, right: ExprNode) -> Filter {
    Filter(Node::Compare { left, op, right })
}

#[cfg(feature = "json")]
fn json_get<V>(target: ExprNode, op: ArithOp, key: String) -> Expr<V> {
    Expr::new(ExprNode::Binary(Box::new(crate::query::expr::BinaryNode {
        left: target,
        op,
        right: ExprNode::Value(key.into_value()),
    })))
}

// JSON (feature `json`).
#[cfg(feature = "json")]
row_expression_methods! {
    where [] {
        /// `self -> key`: the member `key` of a JSON object, as JSON (`jsonb`
        /// of a `jsonb` document, `json` of a `json` one); NULL where there
        /// is none. Feature `json`; PostgreSQL and SQLite.
        ///
        /// ```
        /// # include!("../../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), tenancy_core::BuildError> {
        /// use tenancy_core::{BuildStatement, Select, TenantId};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let sql = Select::<Event>::scoped(&tenant)
        ///     .filter(Event::PAYLOAD.get_text("kind").eq("login"))
        ///     .to_postgres()?
        ///     .into_parts()
        ///     .0;
        /// assert!(sql.ends_with(r#"WHERE "events"."tenant_id" = $1 AND "events"."payload" ->> $2 = $3"#));
        /// # Ok(())
        /// # }
        /// ```
        pub fn get(self, key: impl Into<String>) -> Expr<Option<V::Member>>
        where
            V: JsonColumn,
        {
            json_get(self.into_node(), ArithOp::JsonGet, key.into())
        }

        /// `self ->> key`: the member `key` of a JSON object, as text; NULL
        /// where there is none. Feature `json`; PostgreSQL and SQLite.
        ///
        /// The key is bound, never written into the SQL, and names the
        /// member of exactly that name (on SQLite too, where it is bound as
        /// the path `$."key"`, so a key with a dot, a quote or a leading `$`
        /// is no path). On PostgreSQL a key is one parameter however often
        /// the statement reads it, so a member can be selected, grouped by
        /// and sorted by in one statement:
        ///
        /// ```
        /// # include!("../../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), tenancy_core::BuildError> {
        /// use tenancy_core::{BuildStatement, Select, TenantId, functions};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let kind = Event::PAYLOAD.get_text("kind");
        /// let sql = Select::<Event>::scoped(&tenant)
        ///     .columns((kind.clone(), functions::count_all()))
        ///     .group_by(kind.clone())
        ///     .order_by(kind.asc())
        ///     .to_postgres()?
        ///     .into_parts()
        ///     .0;
        /// assert_eq!(
        ///     sql,
        ///     r#"SELECT "events"."payload" ->> $1, COUNT(*) FROM "public"."events" WHERE "events"."tenant_id" = $2 GROUP BY "events"."payload" ->> $1 ORDER BY "events"."payload" ->> $1 ASC"#
        /// );
        /// # Ok(())
        /// # }
        /// ```
        pub fn get_text(self, key: impl Into<String>) -> Expr<Option<String>>
        where
            V: JsonColumn,
        {
            json_get(self.into_node(), ArithOp::JsonGetText, key.into())
        }

        /// `self @> document`: the JSON value contains `document` (every
        /// member and element of it, recursively). Feature `json`;
        /// PostgreSQL only, and `jsonb` only: PostgreSQL has no `@>` of
        /// `json`.
        pub fn json_contains(self, document: serde_json::Value) -> Filter
        where
            V: JsonbColumn,
        {
            operator(self.into_node(), CompareOp::JsonContains, ExprNode::Value(document.into_value()))
        }

        /// `self ? key`: `key` is a member of the JSON object (or a string
        /// element of the array). Feature `json`; PostgreSQL only, and
        /// `jsonb` only: PostgreSQL has no `?` of `json`.
        pub fn has_key(self, key: impl Into<String>) -> Filter
        where
            V: JsonbColumn,
        {
            operator(self.into_node(), CompareOp::JsonHasKey, ExprNode::Value(key.into().into_value()))
        }
    }
}

// Network addresses (feature `ipnetwork`), of `inet` and `cidr` columns
// alike: PostgreSQL widens `cidr` to `inet` for these operators.
#[cfg(feature = "ipnetwork")]
row_expression_methods! {
    where [] {
        /// `self << network`: the address or network lies strictly within
        /// `network`. Feature `ipnetwork`; PostgreSQL only.
        ///
        /// ```
        /// # include!("../../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// use tenancy_core::{BuildStatement, Select, TenantId};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let office: ipnetwork::IpNetwork = "10.1.0.0/16".parse()?;
        /// let sql = Select::<Device>::scoped(&tenant)
        ///     .filter(Device::ADDRESS.is_within(office))
        ///     .to_postgres()?
        ///     .into_parts()
        ///     .0;
        /// assert!(sql.ends_with(r#"WHERE "devices"."tenant_id" = $1 AND "devices"."address" << $2"#));
        /// # Ok(())
        /// # }
        /// ```
        pub fn is_within(self, network: impl Into<ipnetwork::IpNetwork>) -> Filter
        where
            V: NetworkColumn,
        {
            operator(self.into_node(), CompareOp::Within, ExprNode::Value(network.into().into_value()))
        }

        /// `self <<= network`: within `network` or equal to it. Feature
        /// `ipnetwork`; PostgreSQL only.
        pub fn is_within_or_equal(self, network: impl Into<ipnetwork::IpNetwork>) -> Filter
        where
            V: NetworkColumn,
        {
            operator(self.into_node(), CompareOp::WithinOrEqual, ExprNode::Value(network.into().into_value()))
        }

        /// `self >> address`: the network strictly contains `address` (a
        /// host or a smaller network). Feature `ipnetwork`; PostgreSQL only.
        pub fn encloses(self, address: impl Into<ipnetwork::IpNetwork>) -> Filter
        where
            V: NetworkColumn,
        {
            operator(self.into_node(), CompareOp::Encloses, ExprNode::Value(address.into().into_value()))
        }

        /// `self >>= address`: contains `address` or equals it. Feature
        /// `ipnetwork`; PostgreSQL only.
        pub fn encloses_or_equal(self, address: impl Into<ipnetwork::IpNetwork>) -> Filter
        where
            V: NetworkColumn,
        {
            operator(self.into_node(), CompareOp::EnclosesOrEqual, ExprNode::Value(address.into().into_value()))
        }
    }
}

// Arrays (feature `array`).
#[cfg(feature = "array")]
row_expression_methods! {
    where [] {
        /// `self @> elements`: the array holds every one of `elements`.
        /// Feature `array`; PostgreSQL only.
        ///
        /// ```
        /// # include!("../../../docs/doctest_setup.rs");
        /// # fn main() -> Result<(), tenancy_core::BuildError> {
        /// use tenancy_core::{BuildStatement, Select, TenantId};
        ///
        /// let tenant = TenantId::<i64>::from_verified(7);
        /// let sql = Select::<Article>::scoped(&tenant)
        ///     .filter(Article::TAGS.array_contains(["urgent"]).and(Article::TAGS.has_element("billing")))
        ///     .to_postgres()?
        ///     .into_parts()
        ///     .0;
        /// assert!(sql.ends_with(
        ///     r#"WHERE "articles"."tenant_id" = $1 AND ("articles"."tags" @> $2 AND $3 = ANY("articles"."tags"))"#
        /// ));
        /// # Ok(())
        /// # }
        /// ```
        pub fn array_contains<I>(self, elements: I) -> Filter
        where
            V: ArrayColumn,
            V::Compare: FromIterator<V::Element>,
            I: IntoIterator,
            I::Item: Into<V::Element>,
        {
            let array: V::Compare = elements.into_iter().map(Into::into).collect();
            operator(self.into_node(), CompareOp::ArrayContains, ExprNode::Value(array.into_value()))
        }

        /// `element = ANY(self)`: the array has `element`. Feature `array`;
        /// PostgreSQL only.
        pub fn has_element(self, element: impl Into<V::Element>) -> Filter
        where
            V: ArrayColumn,
        {
            operator(ExprNode::Value(element.into().into_value()), CompareOp::EqAny, self.into_node())
        }
    }
}

// Intervals (feature `interval`).
#[cfg(feature = "interval")]
fn shifted<V>(timestamp: ExprNode, op: ArithOp, interval: ExprNode) -> Expr<V> {
    Expr::new(ExprNode::Binary(Box::new(crate::query::expr::BinaryNode {
        left: timestamp,
        op,
        right: interval,
    })))
}

#[cfg(feature = "interval")]
expression_methods! {
    where [V: ColumnType] {
        /// `self + interval`: the timestamp `interval` later, of the
        /// timestamp's own type (NULL where it is NULL). Feature
        /// `interval`; PostgreSQL only.
        pub fn plus_interval<I>(self, interval: I) -> Expr<V>
        where
            V::Compare: TimestampColumn,
            I: AsExpr<crate::Interval, Type = crate::Interval>,
        {
            shifted(self.into_node(), ArithOp::Add, interval.lower_as())
        }

        /// `self - interval`: the timestamp `interval` earlier, as
        /// `now() - interval '30 days'`. Feature `interval`; PostgreSQL
        /// only.
        pub fn minus_interval<I>(self, interval: I) -> Expr<V>
        where
            V::Compare: TimestampColumn,
            I: AsExpr<crate::Interval, Type = crate::Interval>,
        {
            shifted(self.into_node(), ArithOp::Sub, interval.lower_as())
        }
    }
}
