//! The file of accepted findings: what a deployment has decided to live
//! with, each with its reason, so that the audit can gate CI.
//!
//! ```toml
//! # The bootstrap superuser, used by the DBA only.
//! [[accept]]
//! kind = "login_role_bypasses_rls"
//! matching = "role `postgres`"
//! reason = "bootstrap superuser; applications never connect as it"
//! ```

use std::path::Path;

use serde::Deserialize;
use tenancy_sqlx::audit::{Finding, FindingKind};

use crate::error::{CliError, read};

/// One accepted finding, or family of them.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Acceptance {
    /// The finding's kind, as the report names it (`rls_not_forced`).
    pub kind: String,
    /// The table (or view) it is about, exactly as the report names it.
    #[serde(default)]
    pub table: Option<String>,
    /// Text the finding's message contains.
    #[serde(default)]
    pub matching: Option<String>,
    /// Why it is accepted.
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    accept: Vec<Acceptance>,
}

/// Reads and checks the file: every entry needs a reason.
pub fn load(path: &Path) -> Result<Vec<Acceptance>, CliError> {
    let text = read(path)?;
    let file: File = toml::from_str(&text).map_err(|error| CliError::Invalid {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })?;
    for (index, acceptance) in file.accept.iter().enumerate() {
        if acceptance.reason.trim().is_empty() {
            return Err(CliError::Invalid {
                path: path.to_path_buf(),
                reason: format!(
                    "acceptance {} (kind `{}`) has an empty reason: say why the finding is accepted",
                    index + 1,
                    acceptance.kind
                ),
            });
        }
    }
    Ok(file.accept)
}

impl Acceptance {
    /// Whether it accepts `finding`.
    pub fn accepts(&self, finding: &Finding) -> bool {
        self.kind == kind_code(finding.kind)
            && self
                .table
                .as_ref()
                .is_none_or(|table| finding.table.as_deref() == Some(table.as_str()))
            && self
                .matching
                .as_ref()
                .is_none_or(|text| finding.message.contains(text.as_str()))
    }

    /// How the report shows it.
    pub fn describe(&self) -> String {
        let mut text = format!("kind = {:?}", self.kind);
        if let Some(table) = &self.table {
            text.push_str(&format!(", table = {table:?}"));
        }
        if let Some(matching) = &self.matching {
            text.push_str(&format!(", matching = {matching:?}"));
        }
        text
    }
}

/// A finding kind's name in reports and in the file: `RlsNotForced` is
/// `rls_not_forced`.
pub fn kind_code(kind: FindingKind) -> String {
    let name = format!("{kind:?}");
    let mut code = String::with_capacity(name.len() + 4);
    for (index, c) in name.char_indices() {
        if c.is_ascii_uppercase() {
            if index > 0 {
                code.push('_');
            }
            code.push(c.to_ascii_lowercase());
        } else {
            code.push(c);
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_snake_case() {
        assert_eq!(kind_code(FindingKind::RlsNotForced), "rls_not_forced");
        assert_eq!(
            kind_code(FindingKind::LoginRoleBypassesRls),
            "login_role_bypasses_rls"
        );
    }

    #[test]
    fn every_entry_needs_a_reason_and_known_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accepted.toml");
        std::fs::write(
            &path,
            "[[accept]]\nkind = \"rls_disabled\"\nreason = \"  \"\n",
        )
        .unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("empty reason")
        );
        std::fs::write(
            &path,
            "[[accept]]\nkind = \"rls_disabled\"\nreason = \"x\"\ntabel = \"t\"\n",
        )
        .unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("tabel"));
        std::fs::write(&path, "").unwrap();
        assert_eq!(load(&path).unwrap(), []);
    }
}
