//! `cidr` networks (feature `ipnetwork`).

use core::fmt;
use core::str::FromStr;

use ipnetwork::IpNetwork;

/// A network in a `cidr` column: an IPv4 or IPv6 network whose bits to the
/// right of its prefix are zero (`10.1.0.0/16`, not `10.1.2.3/16`), as
/// PostgreSQL requires of `cidr`.
///
/// Made by [`Cidr::new`] or [`str::parse`], which refuse a network with
/// host bits set, so a value that binds is always one PostgreSQL accepts.
/// A `cidr` column has the containment operators of
/// [`NetworkColumn`](crate::NetworkColumn) (with `inet` addresses and
/// `cidr` networks alike, as PostgreSQL compares them), and compares with
/// other `Cidr`s; a `Cidr` is also a value for an `inet` column's filters,
/// as PostgreSQL widens `cidr` to `inet`. With tenancy-sqlx it decodes as
/// a field of a `sqlx::FromRow` row, and `Option<Cidr>` from a nullable
/// column.
///
/// ```
/// # include!("../docs/doctest_setup.rs");
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use tenancy_core::{BuildStatement, Cidr, Select, TenantId};
///
/// let office: Cidr = "10.1.0.0/16".parse()?;
/// assert!("10.1.2.3/16".parse::<Cidr>().is_err());
///
/// let tenant = TenantId::<i64>::from_verified(7);
/// let sql = Select::<Device>::scoped(&tenant)
///     .filter(Device::ADDRESS.is_within(office))
///     .to_postgres()?
///     .into_parts()
///     .0;
/// assert!(sql.ends_with(r#"WHERE "devices"."tenant_id" = $1 AND "devices"."address" << $2"#));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr(IpNetwork);

/// Why a network is not a `cidr` value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidrError {
    /// Bits to the right of the prefix are set.
    #[error(
        "`{given}` has bits set to the right of its prefix, which a `cidr` network may not have; the network is `{network}`"
    )]
    HostBitsSet {
        /// The network as given.
        given: IpNetwork,
        /// The network its prefix names, host bits cleared.
        network: IpNetwork,
    },
    /// The text is not an address or a network.
    #[error("not an IP network: {reason}")]
    Malformed {
        /// What the parser found.
        reason: String,
    },
}

impl Cidr {
    /// `network` as a `cidr` value; an error when bits to the right of its
    /// prefix are set.
    pub fn new(network: IpNetwork) -> Result<Self, CidrError> {
        let base = network.network();
        if base == network.ip() {
            return Ok(Cidr(network));
        }
        match IpNetwork::new(base, network.prefix()) {
            Ok(cleared) => Err(CidrError::HostBitsSet {
                given: network,
                network: cleared,
            }),
            Err(error) => Err(CidrError::Malformed {
                reason: error.to_string(),
            }),
        }
    }

    /// The network.
    #[must_use]
    pub fn network(self) -> IpNetwork {
        self.0
    }
}

impl TryFrom<IpNetwork> for Cidr {
    type Error = CidrError;

    fn try_from(network: IpNetwork) -> Result<Self, CidrError> {
        Cidr::new(network)
    }
}

/// A `cidr` network is an `inet` value (PostgreSQL widens it so).
impl From<Cidr> for IpNetwork {
    fn from(cidr: Cidr) -> IpNetwork {
        cidr.0
    }
}

impl FromStr for Cidr {
    type Err = CidrError;

    /// `10.1.0.0/16`, `2001:db8::/32`; an address alone is a one-host
    /// network.
    fn from_str(text: &str) -> Result<Self, CidrError> {
        let network: IpNetwork =
            text.parse()
                .map_err(|error: ipnetwork::IpNetworkError| CidrError::Malformed {
                    reason: error.to_string(),
                })?;
        Cidr::new(network)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_refused_with_the_network_they_meant() {
        assert_eq!(
            "10.1.0.0/16".parse::<Cidr>().map(|cidr| cidr.to_string()),
            Ok("10.1.0.0/16".to_owned())
        );
        let Err(CidrError::HostBitsSet { network, .. }) = "10.1.2.3/16".parse::<Cidr>() else {
            panic!("host bits were accepted");
        };
        assert_eq!(network.to_string(), "10.1.0.0/16");
        assert!(matches!(
            "10.1/99".parse::<Cidr>(),
            Err(CidrError::Malformed { .. })
        ));
        assert!("2001:db8::/32".parse::<Cidr>().is_ok());
    }
}
