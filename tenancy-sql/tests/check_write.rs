//! `check` on statements that write: `UPDATE`, `DELETE`, `INSERT`,
//! `ON CONFLICT` and data-modifying `WITH` queries.

mod support;

use support::{accepted, messages, refused, refused_once};
use tenancy_sql::{Place, Problem, Rule, Scope, StatementKind};

fn unconfined(slot: &str) -> (Problem, String) {
    (Problem::Unconfined, slot.to_owned())
}

#[test]
fn update_targets_are_confined_by_the_where() {
    let checked = accepted(
        "UPDATE {Account} a SET balance = a.balance - $amount WHERE a.tenant_id = $tenant AND a.id = $id \
         RETURNING a.balance",
    );
    assert_eq!(checked.kind(), StatementKind::Update);
    assert!(!checked.is_read_only());
    let account = &checked.tables()[0];
    assert_eq!(account.place(), Place::UpdateTarget);
    assert_eq!(
        account
            .requirements()
            .iter()
            .map(|r| r.rule().clone())
            .collect::<Vec<_>>(),
        [
            Rule::TenantColumnIn(vec!["tenant_id".into()]),
            Rule::TenantColumnIsNot("balance".into())
        ]
    );
    assert_eq!(
        refused("UPDATE {Account} a SET balance = 0 WHERE a.id = $id OR a.tenant_id = $tenant"),
        [unconfined("{Account}")]
    );
    assert_eq!(
        refused("UPDATE {Account} a SET balance = 0"),
        [unconfined("{Account}")]
    );
    let text = messages("UPDATE {Account} a SET balance = 0");
    assert!(
        text.contains("the UPDATE target `a` (`{Account}`) has no tenant conjunct")
            && text.contains("add `AND a.tenant_id = $tenant` to the `WHERE` of this UPDATE"),
        "{text}"
    );
}

#[test]
fn update_cannot_assign_the_tenant_column() {
    for set in [
        "SET tenant_id = $other",
        "SET TENANT_ID = $tenant",
        "SET \"tenant_id\" = 3",
        "SET status = 'x', tenant_id = 3",
        "SET (status, tenant_id) = ('x', 3)",
        "SET (status, tenant_id) = (SELECT 'x', 3)",
    ] {
        let sql = format!("UPDATE {{Order}} o {set} WHERE o.tenant_id = $tenant");
        let problems = refused(&sql);
        assert_eq!(problems.len(), 1, "{sql}: {problems:?}");
        assert_eq!(problems[0].0, Problem::TenantColumnAssigned, "{sql}");
    }
    let text = messages("UPDATE {Order} o SET tenant_id = $other WHERE o.tenant_id = $tenant");
    assert!(
        text.contains("this UPDATE assigns `tenant_id`, the tenant column of `{Order}`"),
        "{text}"
    );
    // A quoted name that is another column is another column.
    accepted("UPDATE {Order} o SET \"Tenant_ID\" = 3 WHERE o.tenant_id = $tenant");
    assert_eq!(
        refused_once("UPDATE {Order} o SET tenant_id.x = 3 WHERE o.tenant_id = $tenant").0,
        Problem::Unsupported
    );
}

#[test]
fn update_from_confines_every_reference() {
    let sql = "UPDATE {Account} a SET balance = a.balance + t.amount FROM {Transfer} t \
               JOIN {Ledger} l ON l.tenant_id = $tenant AND l.id = t.ledger \
               WHERE a.tenant_id = $tenant AND t.tenant_id = $tenant AND t.to_account = a.id";
    let checked = accepted(sql);
    assert_eq!(checked.tables()[1].place(), Place::From(Scope::Update));
    assert_eq!(
        refused(&sql.replace("AND t.tenant_id = $tenant", "")),
        [unconfined("{Transfer}")]
    );
    assert_eq!(
        refused(&sql.replace("l.tenant_id = $tenant AND", "")),
        [unconfined("{Ledger}")]
    );
    assert_eq!(
        refused("UPDATE {Account} a SET x = 1 FROM {Account} a WHERE a.tenant_id = $tenant"),
        [(Problem::DuplicateName, "a".into())]
    );
}

#[test]
fn subqueries_in_updates_are_confined() {
    assert_eq!(
        refused(
            "UPDATE {Order} o SET total = (SELECT sum(l.n) FROM {Line} l WHERE l.order_id = o.id) \
             WHERE o.tenant_id = $tenant"
        ),
        [unconfined("{Line}")]
    );
    assert_eq!(
        refused(
            "UPDATE {Order} o SET total = 0 WHERE o.tenant_id = $tenant RETURNING (SELECT count(*) FROM {Line} l)"
        ),
        [unconfined("{Line}")]
    );
}

#[test]
fn delete_targets_and_using_are_confined() {
    let checked = accepted(
        "DELETE FROM {Session} s USING {User} u WHERE s.tenant_id = $tenant AND u.tenant_id = $tenant \
         AND u.id = s.user_id AND u.disabled RETURNING s.id",
    );
    assert_eq!(checked.kind(), StatementKind::Delete);
    assert_eq!(checked.tables()[0].place(), Place::DeleteTarget);
    assert_eq!(checked.tables()[1].place(), Place::From(Scope::Delete));
    assert_eq!(
        refused("DELETE FROM {Session} s USING {User} u WHERE s.tenant_id = $tenant"),
        [unconfined("{User}")]
    );
    assert_eq!(
        refused("DELETE FROM {Session} s"),
        [unconfined("{Session}")]
    );
    assert_eq!(
        refused_once("DELETE FROM {Session} WHERE tenant_id = $tenant"),
        (Problem::Alias, "{Session}".into())
    );
}

#[test]
fn inserts_give_the_tenant_column_tenant_in_every_row() {
    let checked = accepted(
        "INSERT INTO {Order} (tenant_id, status, total) VALUES ($tenant, $status, $total), ($tenant, 'x', 0) \
         RETURNING id",
    );
    assert_eq!(checked.kind(), StatementKind::Insert);
    let order = &checked.tables()[0];
    assert_eq!(order.place(), Place::InsertTarget);
    assert_eq!(order.tenant_conjuncts(), None);
    assert_eq!(
        order.requirements()[0].rule(),
        &Rule::TenantColumnIn(vec!["tenant_id".into()])
    );
    for sql in [
        "INSERT INTO {Order} (tenant_id, status) VALUES ($tenant, 'a'), ($other, 'b')",
        "INSERT INTO {Order} (tenant_id, status) VALUES ($tenant, 'a'), (DEFAULT, 'b')",
        "INSERT INTO {Order} (tenant_id, status) VALUES ($tenant + 0, 'a')",
        "INSERT INTO {Order} (tenant_id, status) VALUES ($tenant::bigint, 'a')",
        "INSERT INTO {Order} (tenant_id, status) VALUES ('a', $tenant)",
        "INSERT INTO {Order} (status) VALUES ($tenant)",
        "INSERT INTO {Order} VALUES ($tenant, 'a')",
        "INSERT INTO {Order} DEFAULT VALUES",
    ] {
        assert_eq!(
            refused(sql),
            [(Problem::TenantColumnNotInserted, "{Order}".into())],
            "{sql}"
        );
    }
    let text = messages("INSERT INTO {Order} (status) VALUES ('a')");
    assert!(
        text.contains("this INSERT into `{Order}` does not give `tenant_id` the value `$tenant`")
            && text
                .contains("list `tenant_id` among the columns and give it `$tenant` in every row"),
        "{text}"
    );
    // A global table takes no tenant.
    accepted("INSERT INTO {Country} (code, name) VALUES ($code, $name)");
    assert_eq!(
        refused_once("INSERT INTO {Order} (tenant_id, TENANT_ID) VALUES ($tenant, $tenant)").0,
        Problem::DuplicateName
    );
}

#[test]
fn insert_select_selects_tenant_from_a_confined_select() {
    accepted(
        "INSERT INTO {Archive} (tenant_id, order_id, total) \
         SELECT $tenant, o.id, o.total FROM {Order} o WHERE o.tenant_id = $tenant AND o.closed",
    );
    accepted(
        "INSERT INTO {Archive} (tenant_id, order_id) \
         SELECT $tenant AS t, o.id FROM {Order} o WHERE o.tenant_id = $tenant \
         UNION ALL SELECT ($tenant), l.id FROM {Line} l WHERE l.tenant_id = $tenant",
    );
    // The select's own reference must be confined.
    assert_eq!(
        refused("INSERT INTO {Archive} (tenant_id, order_id) SELECT $tenant, o.id FROM {Order} o"),
        [unconfined("{Order}")]
    );
    // Copying another tenant's column is not `$tenant`.
    for sql in [
        "INSERT INTO {Archive} (tenant_id, order_id) SELECT o.tenant_id, o.id FROM {Order} o WHERE o.tenant_id = $tenant",
        "INSERT INTO {Archive} (tenant_id, order_id) SELECT * FROM {Order} o WHERE o.tenant_id = $tenant",
        "INSERT INTO {Archive} (tenant_id, order_id) SELECT $tenant, o.id FROM {Order} o WHERE o.tenant_id = $tenant \
         UNION SELECT 7, 8",
    ] {
        assert_eq!(
            refused(sql),
            [(Problem::TenantColumnNotInserted, "{Archive}".into())],
            "{sql}"
        );
    }
    let text = messages(
        "INSERT INTO {Archive} (tenant_id, order_id) SELECT o.tenant_id, o.id FROM {Order} o WHERE o.tenant_id = $tenant",
    );
    assert!(text.contains("select `$tenant` for it"), "{text}");
}

#[test]
fn on_conflict_do_update_is_confined_by_its_target_or_its_where() {
    let upsert = |conflict: &str| {
        format!(
            "INSERT INTO {{Counter}} AS c (tenant_id, name, n) VALUES ($tenant, $name, 1) {conflict}"
        )
    };
    accepted(&upsert(
        "ON CONFLICT (tenant_id, name) DO UPDATE SET n = c.n + EXCLUDED.n",
    ));
    accepted(&upsert(
        "ON CONFLICT (name) DO UPDATE SET n = c.n + 1 WHERE c.tenant_id = $tenant AND c.n < 100",
    ));
    accepted(&upsert("ON CONFLICT (name) DO NOTHING"));
    accepted(&upsert("ON CONFLICT DO NOTHING"));
    for conflict in [
        "ON CONFLICT (name) DO UPDATE SET n = c.n + 1",
        "ON CONFLICT (name) DO UPDATE SET n = 1 WHERE EXCLUDED.tenant_id = $tenant",
        "ON CONFLICT (name) DO UPDATE SET n = 1 WHERE c.tenant_id = $tenant OR true",
        "ON CONFLICT ON CONSTRAINT counters_name_key DO UPDATE SET n = 1",
    ] {
        assert_eq!(
            refused(&upsert(conflict)),
            [unconfined("{Counter}")],
            "{conflict}"
        );
    }
    let text = messages(&upsert("ON CONFLICT (name) DO UPDATE SET n = 1"));
    assert!(
        text.contains("`ON CONFLICT .. DO UPDATE` on `{Counter}` could update another tenant's row")
            && text.contains("put `tenant_id` in the conflict target (`ON CONFLICT (tenant_id, ..)`) or add `WHERE c.tenant_id = $tenant` to `DO UPDATE`"),
        "{text}"
    );
    let problems = refused(&upsert(
        "ON CONFLICT (tenant_id, name) DO UPDATE SET tenant_id = EXCLUDED.tenant_id",
    ));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].0, Problem::TenantColumnAssigned);
    assert_eq!(
        refused(
            "INSERT INTO {Counter} AS c (tenant_id, n) VALUES ($tenant, 1) ON CONFLICT (tenant_id) \
             DO UPDATE SET n = (SELECT max(x.n) FROM {Counter} x)"
        ),
        [unconfined("{Counter}")]
    );
}

#[test]
fn data_modifying_with_queries_are_checked_like_statements() {
    let sql = "WITH moved AS (DELETE FROM {Order} o WHERE o.tenant_id = $tenant AND o.closed RETURNING o.id, o.total) \
               INSERT INTO {Archive} (tenant_id, order_id, total) SELECT $tenant, m.id, m.total FROM moved m";
    let checked = accepted(sql);
    assert_eq!(checked.kind(), StatementKind::Insert);
    assert_eq!(
        refused(&sql.replace("o.tenant_id = $tenant AND ", "")),
        [unconfined("{Order}")]
    );
    let checked = accepted(
        "WITH bumped AS (UPDATE {Counter} c SET n = c.n + 1 WHERE c.tenant_id = $tenant RETURNING c.n) \
         SELECT b.n FROM bumped b",
    );
    assert_eq!(checked.kind(), StatementKind::Select);
    assert!(!checked.is_read_only());
    assert_eq!(
        refused_once("WITH x AS (SELECT 1) UPDATE x SET a = 1").0,
        Problem::Unsupported
    );
}

#[test]
fn sqlite_only_and_mysql_only_writes_are_refused() {
    assert_eq!(
        refused_once("REPLACE INTO {Order} (tenant_id, id) VALUES ($tenant, 1)"),
        (Problem::Statement, "REPLACE".into())
    );
    let text = messages("REPLACE INTO {Order} (tenant_id, id) VALUES ($tenant, 1)");
    assert!(
        text.contains("deletes whatever row is in the way, of any tenant"),
        "{text}"
    );
    assert_eq!(
        refused_once("UPDATE {Order} o SET x = 1 WHERE o.tenant_id = $tenant LIMIT 1").0,
        Problem::Unsupported
    );
}
