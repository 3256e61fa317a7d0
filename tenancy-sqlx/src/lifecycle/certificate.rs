//! The certificate of deletion: what an erasure did, verified, with a
//! digest over its content.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::export::hex;
use super::plan::AnonymisedColumn;

/// The `format` of the certificates this version writes.
pub const CERTIFICATE_FORMAT: &str = "tenancy-erasure-certificate/1";

/// A certificate of deletion: the tenant, every table processed with its
/// row count, the anonymised columns, the start and finish times, the
/// library version, and a SHA-256 digest over all of that.
///
/// Written by [`OwnerPool::erase_tenant`](crate::OwnerPool::erase_tenant)
/// into the append-only `tenant_deletion_certificates` table (as the JSON of
/// [`to_json`](Self::to_json)) in the transaction that verified that no row
/// of the tenant remains, and returned.
///
/// *Available with the `lifecycle` feature.*
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// What was certified.
    pub content: CertificateContent,
    /// SHA-256, lowercase hex, of the compact JSON of `content`.
    pub sha256: String,
}

/// The certified facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateContent {
    /// [`CERTIFICATE_FORMAT`].
    pub format: String,
    /// The job, as numbered in the ledger.
    pub job_id: i64,
    /// The tenant key, as text.
    pub tenant: String,
    /// The database it ran in.
    pub database: String,
    /// The role that ran it.
    pub erased_by: String,
    /// When the job started (UTC, RFC 3339, from the database's clock).
    pub started_at: String,
    /// When the verification finished.
    pub finished_at: String,
    /// `tenancy-sqlx <version>`.
    pub library: String,
    /// Every table processed, in the order processed.
    pub tables: Vec<CertifiedTable>,
    /// What the verification found left: 0 rows of the tenant in every
    /// deleted table, 0 rows with personal data in every retained one.
    pub remaining_rows: i64,
}

/// One table of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertifiedTable {
    /// `schema.name`.
    pub table: String,
    /// `deleted` or `anonymised`.
    pub action: String,
    /// Rows deleted or anonymised by the job.
    pub rows: i64,
    /// For a retained table, its personal-data columns and what they became.
    pub anonymised_columns: Vec<AnonymisedColumn>,
    /// When the table was done.
    pub finished_at: Option<String>,
}

impl Certificate {
    /// Seals `content` with its digest.
    pub(crate) fn seal(content: CertificateContent) -> Result<Self, serde_json::Error> {
        let sha256 = digest(&content)?;
        Ok(Certificate { content, sha256 })
    }

    /// Whether the digest matches the content: a certificate read back from
    /// the table or from a file that was changed does not.
    #[must_use]
    pub fn digest_matches(&self) -> bool {
        digest(&self.content).is_ok_and(|digest| digest == self.sha256)
    }

    /// The certificate as pretty-printed JSON (its stored form).
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Reads a certificate from its JSON.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The rows the job deleted or anonymised in `table` (`schema.name`).
    #[must_use]
    pub fn rows(&self, table: &str) -> Option<i64> {
        self.content
            .tables
            .iter()
            .find(|entry| entry.table == table)
            .map(|entry| entry.rows)
    }
}

fn digest(content: &CertificateContent) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(content)?;
    Ok(hex(&Sha256::digest(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content() -> CertificateContent {
        CertificateContent {
            format: CERTIFICATE_FORMAT.to_owned(),
            job_id: 1,
            tenant: "42".to_owned(),
            database: "shop".to_owned(),
            erased_by: "owner".to_owned(),
            started_at: "2026-01-01T00:00:00.000000Z".to_owned(),
            finished_at: "2026-01-01T00:00:01.000000Z".to_owned(),
            library: "tenancy-sqlx 0.1.0".to_owned(),
            tables: vec![CertifiedTable {
                table: "public.orders".to_owned(),
                action: "deleted".to_owned(),
                rows: 3,
                anonymised_columns: Vec::new(),
                finished_at: None,
            }],
            remaining_rows: 0,
        }
    }

    #[test]
    fn the_digest_covers_every_field() {
        let certificate = Certificate::seal(content()).unwrap();
        assert!(certificate.digest_matches());
        let read = Certificate::from_json(&certificate.to_json().unwrap()).unwrap();
        assert_eq!(read, certificate);
        assert!(read.digest_matches());
        let mut forged = certificate.clone();
        forged.content.tables[0].rows = 2;
        assert!(!forged.digest_matches());
        let mut forged = certificate;
        forged.content.tenant = "43".to_owned();
        assert!(!forged.digest_matches());
    }
}
