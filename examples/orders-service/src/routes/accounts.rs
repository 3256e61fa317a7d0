//! `/accounts`: open an account, read it, and transfer between two accounts
//! of the tenant.
//!
//! A transfer is two guarded updates in one tenant transaction, each a
//! single statement that computes the new balance in the database
//! (`balance_cents = balance_cents - $amount`): no balance is read into the
//! service and written back, so two concurrent transfers from one account
//! are applied one after the other (the second waits for the first's row
//! lock and sees its result) instead of both writing a balance computed
//! from the same stale read.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tenancy_sqlx::axum::VerifiedTenant;
use tenancy_sqlx::{Backend, BeginTenant, DecodeRow, TenantTransaction};

use crate::app::AppState;
use crate::error::AppError;
use crate::extract::{Json, Path};
use crate::model::{NewAccount, TransferRequest};
use crate::schema::Account;

/// Both accounts of a transfer, after it.
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    /// The account debited.
    pub from: Account,
    /// The account credited.
    pub to: Account,
}

/// `POST /accounts` with `{"name": "…", "balance_cents": 10000}`
pub async fn create<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Json(new): Json<NewAccount>,
) -> Result<(StatusCode, axum::Json<Account>), AppError>
where
    Account: DecodeRow<T::Backend>,
{
    new.validate()?;
    let mut tx = state.tenants.begin(&tenant).await?;
    let account = tx
        .fetch_one(
            Account::insert(&tenant)
                .set(Account::NAME, new.name)
                .set(Account::BALANCE_CENTS, new.balance_cents)
                .returning_all(),
        )
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(account)))
}

/// `GET /accounts/{id}`
pub async fn get<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(id): Path<i64>,
) -> Result<axum::Json<Account>, AppError>
where
    Account: DecodeRow<T::Backend>,
{
    let mut tx = state.tenants.begin(&tenant).await?;
    let account = tx
        .fetch_optional(Account::select(&tenant).filter(Account::ID.eq(id)))
        .await?
        .ok_or(AppError::NotFound {
            what: "account",
            id,
        })?;
    tx.commit().await?;
    Ok(axum::Json(account))
}

/// `POST /accounts/{id}/transfer` with `{"to": 2, "amount_cents": 500}`:
/// 200 with both accounts; 404 when either account is not the tenant's;
/// 409 when the balance is short. Nothing changes unless everything does.
pub async fn transfer<T: BeginTenant>(
    State(state): State<AppState<T>>,
    VerifiedTenant(tenant): VerifiedTenant,
    Path(from): Path<i64>,
    Json(request): Json<TransferRequest>,
) -> Result<axum::Json<Transfer>, AppError>
where
    Account: DecodeRow<T::Backend>,
    (bool,): DecodeRow<T::Backend>,
{
    request.validate(from)?;
    let mut tx = state.tenants.begin(&tenant).await?;
    let transfer = transfer_in(&mut tx, from, request.to, request.amount_cents).await?;
    tx.commit().await?;
    Ok(axum::Json(transfer))
}

/// Moves `amount` cents from account `from` to account `to` of the
/// transaction's tenant, in two single-statement updates. The caller
/// commits; on an error the transaction must be dropped (which rolls back
/// the debit if the credit failed).
pub async fn transfer_in<DB: Backend>(
    tx: &mut TenantTransaction<i64, DB>,
    from: i64,
    to: i64,
    amount: i64,
) -> Result<Transfer, AppError>
where
    Account: DecodeRow<DB>,
    (bool,): DecodeRow<DB>,
{
    let tenant = *tx.tenant();
    // The guard is part of the update: the balance it checks is the one
    // the update writes over, under the row's lock.
    let debited = tx
        .fetch_optional(
            Account::update(&tenant)
                .set(Account::BALANCE_CENTS, Account::BALANCE_CENTS - amount)
                .filter(Account::ID.eq(from).and(Account::BALANCE_CENTS.gte(amount)))
                .returning_all(),
        )
        .await?;
    let Some(debited) = debited else {
        // Nothing was written; a read now only says why.
        let (exists,): (bool,) = tx
            .fetch_one(
                Account::select(&tenant)
                    .filter(Account::ID.eq(from))
                    .exists(),
            )
            .await?;
        return Err(if exists {
            AppError::Conflict(format!("account {from} has less than {amount} cents"))
        } else {
            AppError::NotFound {
                what: "account",
                id: from,
            }
        });
    };
    let credited = tx
        .fetch_optional(
            Account::update(&tenant)
                .set(Account::BALANCE_CENTS, Account::BALANCE_CENTS + amount)
                .filter(Account::ID.eq(to))
                .returning_all(),
        )
        .await?
        .ok_or(AppError::NotFound {
            what: "account",
            id: to,
        })?;
    Ok(Transfer {
        from: debited,
        to: credited,
    })
}
