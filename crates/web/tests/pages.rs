//! The web application over a real SQLite store: sign-in, every route as every role,
//! region scoping, CSRF, lockout, tokens, masking, languages and the audit trail.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sanad_domain::Role;
use sanad_store::conformance::sample;
use sanad_store::{RegistryStore, Scope, Store, Write};
use sanad_web::{AppState, SecurityConfig, auth, router, service};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
/// The date the application works on in these tests (payroll months are fixed below).
const TODAY: &str = "2026-11-20";

struct App {
    router: axum::Router,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// Households 500000000001–2 in region 01, 500000000003 in region 04; one user per role.
async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store =
        sanad_store_sqlite::SqliteStore::open(&dir.path().join("w.db").display().to_string())
            .await
            .unwrap();
    store
        .upsert_households(
            &[sample(1, "01"), sample(2, "01"), sample(3, "04")],
            Write::Apply,
        )
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let hash = auth::hash_password(PASSWORD);
    for role in Role::ALL {
        let scope = if matches!(
            role,
            Role::AntennaAgent | Role::AntennaSupervisor | Role::AppealsOfficer
        ) {
            Scope::Regions(vec![sanad_domain::RegionCode::parse("04").unwrap()])
        } else {
            Scope::National
        };
        let mut u = service::new_user(role.as_str(), role.as_str(), role, scope, "fr", "x");
        u.password_hash = hash.clone();
        store
            .create_user(&u, &sanad_store::Actor::new("test", "setup"))
            .await
            .unwrap();
    }
    let mut other = service::new_user(
        "agent01",
        "Agent 01",
        Role::AntennaAgent,
        Scope::Regions(vec![sanad_domain::RegionCode::parse("01").unwrap()]),
        "fr",
        "x",
    );
    other.password_hash = hash;
    store
        .create_user(&other, &sanad_store::Actor::new("test", "setup"))
        .await
        .unwrap();
    let security = SecurityConfig {
        secure_cookies: false,
        max_failures: 3,
        ..Default::default()
    };
    let release = sanad_payroll::run::ReleaseConfig::anss(
        dir.path().join("payments"),
        2,
        sanad_domain::Rib::parse(sanad_payroll::run::DEMO_DEBTOR_RIB).unwrap(),
        "BKAMMAMR",
    );
    App {
        router: router(
            AppState::new(store.clone(), security)
                .with_release(release)
                .with_today(TODAY.parse().unwrap()),
        ),
        store,
        _dir: dir,
    }
}

#[derive(Debug)]
struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl App {
    async fn send(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let body = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec())
            .unwrap();
        Res {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str, session: Option<&Session>) -> Res {
        let mut req = Request::get(uri);
        if let Some(s) = session {
            req = req.header(header::COOKIE, format!("sanad_session={}", s.cookie));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A form post with the session's CSRF token (unless `csrf` is false).
    async fn post(&self, uri: &str, session: &Session, form: &str, csrf: bool) -> Res {
        let body = if csrf {
            format!("_csrf={}&{form}", session.csrf)
        } else {
            form.to_owned()
        };
        let req = Request::post(uri)
            .header(header::COOKIE, format!("sanad_session={}", session.cookie))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// A JSON request as a signed-in browser script would send it (CSRF in the header).
    fn json_post(&self, uri: &str, session: &Session, body: &str) -> Request<Body> {
        Request::post(uri)
            .header(header::COOKIE, format!("sanad_session={}", session.cookie))
            .header("x-csrf-token", &session.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    }

    async fn login(&self, username: &str, password: &str) -> Result<Session, Res> {
        let form = self.get("/login", None).await;
        let cookie = set_cookie(&form, "sanad_login_csrf").unwrap();
        let body = format!(
            "_csrf={cookie}&username={username}&password={}&next=/",
            password.replace(' ', "+")
        );
        let req = Request::post("/login")
            .header(header::COOKIE, format!("sanad_login_csrf={cookie}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let res = self.send(req).await;
        let Some(id) =
            set_cookie(&res, "sanad_session").filter(|_| res.status == StatusCode::SEE_OTHER)
        else {
            return Err(res);
        };
        let session = self
            .store
            .session(&auth::sha256_hex(&id))
            .await
            .unwrap()
            .expect("session stored");
        Ok(Session {
            cookie: id,
            csrf: session.csrf,
        })
    }
}

#[derive(Debug)]
struct Session {
    cookie: String,
    csrf: String,
}

fn set_cookie(res: &Res, name: &str) -> Option<String> {
    res.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

#[tokio::test]
async fn anonymous_requests_are_refused_except_login_health_and_docs() {
    let app = app().await;
    let api = app.get("/api/v1/households", None).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert!(
        api.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    for uri in [
        "/",
        "/households",
        "/households/500000000001",
        "/rules",
        "/admin/users",
        "/audit",
    ] {
        let res = app.get(uri, None).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(
            res.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .starts_with("/login?next="),
            "{uri}"
        );
    }
    for uri in [
        "/api/v1/registry/regions",
        "/api/v1/rule-sets",
        "/api/v1/audit",
        "/api/v1/users",
    ] {
        assert_eq!(
            app.get(uri, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
    for uri in [
        "/login",
        "/health",
        "/api/docs",
        "/api/v1/openapi.json",
        "/assets/htmx.min.js",
    ] {
        assert_eq!(app.get(uri, None).await.status, StatusCode::OK, "{uri}");
    }
    let page = app.get("/login", None).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        !page.body.contains("<script>") && !page.body.contains(" style="),
        "no inline script or style"
    );
}

/// Every page and API route, as every role: allowed (200) or denied (403).
#[tokio::test]
async fn every_route_as_every_role() {
    use Role::*;
    let app = app().await;
    let all = Role::ALL.to_vec();
    let readers = vec![
        AntennaAgent,
        AntennaSupervisor,
        AppealsOfficer,
        PaymentOfficer,
        PaymentApprover,
        Auditor,
    ];
    let routes: Vec<(&str, Vec<Role>)> = vec![
        ("/", all.clone()),
        ("/households?q=500000000003", readers.clone()),
        ("/households/500000000003", readers.clone()),
        ("/applications", vec![AntennaAgent, AntennaSupervisor]),
        ("/rules", all.clone()),
        ("/rules/asd-2026-11", all.clone()),
        ("/rules/diff?a=asd-2025-11&b=asd-2026-11", all.clone()),
        ("/rules/propose", vec![Administrator]),
        ("/admin/users", vec![Administrator]),
        ("/admin/tokens", vec![Administrator]),
        ("/audit", vec![Auditor]),
        ("/audit.csv", vec![Auditor]),
        ("/api/v1/households", readers.clone()),
        ("/api/v1/households?q=500000000003", readers.clone()),
        ("/api/v1/households/500000000003", readers.clone()),
        (
            "/api/v1/households/500000000003/entitlement?month=2026-11",
            readers.clone(),
        ),
        (
            "/api/v1/households/500000000003/applications",
            readers.clone(),
        ),
        ("/api/v1/households/500000000003/events", readers.clone()),
        ("/api/v1/registry/regions", all.clone()),
        ("/api/v1/rule-sets", all.clone()),
        ("/api/v1/rule-sets/asd-2026-11", all.clone()),
        (
            "/api/v1/rule-sets/diff?a=asd-2025-11&b=asd-2026-11",
            all.clone(),
        ),
        ("/api/v1/users", vec![Administrator]),
        ("/api/v1/audit", vec![Auditor]),
        ("/api/v1/audit/verify", vec![Auditor]),
        ("/pilot", all.clone()),
        (
            "/payroll",
            vec![PaymentOfficer, PaymentApprover, MeAnalyst, Auditor],
        ),
        (
            "/payroll/2026-11",
            vec![PaymentOfficer, PaymentApprover, MeAnalyst, Auditor],
        ),
        (
            "/payroll/2026-11/reconciliation.csv",
            vec![PaymentOfficer, PaymentApprover, MeAnalyst, Auditor],
        ),
        (
            "/payroll/2026-11/budget.csv",
            vec![PaymentOfficer, PaymentApprover, MeAnalyst, Auditor],
        ),
        (
            "/api/v1/payroll/2026-11",
            vec![PaymentOfficer, PaymentApprover, MeAnalyst, Auditor],
        ),
        // notify branch
        (
            "/outbox",
            vec![AntennaAgent, AntennaSupervisor, Administrator],
        ),
        (
            "/outbox?status=dead",
            vec![AntennaAgent, AntennaSupervisor, Administrator],
        ),
        // pilot (issue 7): the analyst sees measures and designs, never case notes
        ("/pilot/measures", all.clone()),
        ("/pilot/designs", all.clone()),
        ("/pilot/caseload", vec![AntennaAgent, AntennaSupervisor]),
        (
            "/pilot/cases/500000000003",
            vec![AntennaAgent, AntennaSupervisor],
        ),
        // pilot administration (issue 7): indicators are aggregates, for every role
        ("/pilot/indicators", all.clone()),
        ("/pilot/indicators?month=2026-10", all.clone()),
        ("/pilot/indicators.csv", all.clone()),
        ("/api/v1/pilot/indicators", all.clone()),
        // pilot outcomes import (issue 7): the analyst and the administrator
        ("/pilot/outcomes", vec![MeAnalyst, Administrator]),
    ];
    for role in Role::ALL {
        let s = app
            .login(role.as_str(), PASSWORD)
            .await
            .unwrap_or_else(|r| panic!("{role} cannot log in: {}", r.status));
        for (uri, allowed) in &routes {
            let res = app.get(uri, Some(&s)).await;
            let want = if allowed.contains(&role) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                res.status,
                want,
                "{role} GET {uri}: {}",
                &res.body[..res.body.len().min(300)]
            );
        }
    }
}

/// Every state-changing route, as every role: denied roles get 403 and change nothing.
#[tokio::test]
async fn every_change_as_every_role() {
    use Role::*;
    let app = app().await;
    let toml = |id: &str, date: &str| {
        include_str!("../../../rules/asd-2026-11.toml")
            .replace("id = \"asd-2026-11\"", &format!("id = \"{id}\""))
            .replace(
                "effective_from = \"2026-11-01\"",
                &format!("effective_from = \"{date}\""),
            )
    };
    for (i, role) in Role::ALL.into_iter().enumerate() {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        let id = format!("asd-walk-{i}");
        let proposal = format!(
            "body={}",
            sanad_web::pages::urlencode(&toml(&id, &format!("2040-0{}-01", i + 1)))
                .replace('/', "%2F")
        );
        let res = app.post("/rules/propose", &s, &proposal, true).await;
        assert_eq!(
            res.status == StatusCode::SEE_OTHER,
            role == Administrator,
            "{role} POST /rules/propose: {}",
            res.status
        );
        let user = format!(
            "username=u{i}.x&display_name=U&role=auditor&scope=national&locale=fr&password=long+enough+pw"
        );
        let res = app.post("/admin/users", &s, &user, true).await;
        assert_eq!(
            res.status == StatusCode::SEE_OTHER,
            role == Administrator,
            "{role} POST /admin/users: {}",
            res.status
        );
        assert_eq!(
            app.store.user(&format!("u{i}.x")).await.unwrap().is_some(),
            role == Administrator
        );
        let res = app
            .post(
                "/admin/tokens",
                &s,
                "name=t&username=auditor&scopes=audit%3Aread",
                true,
            )
            .await;
        assert_eq!(
            res.status == StatusCode::OK,
            role == Administrator,
            "{role} POST /admin/tokens: {}",
            res.status
        );
        let api = Request::post("/api/v1/rule-sets")
            .header(header::COOKIE, format!("sanad_session={}", s.cookie))
            .header("x-csrf-token", &s.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::json!({"toml": toml(&format!("{id}-api"), &format!("2041-0{}-01", i + 1))}).to_string()))
            .unwrap();
        let res = app.send(api).await;
        assert_eq!(
            res.status == StatusCode::CREATED,
            role == Administrator,
            "{role} POST /api/v1/rule-sets: {}",
            res.status
        );
        if role != Administrator {
            assert_eq!(res.status, StatusCode::FORBIDDEN);
        }
        // pilot administration (issue 7): designs by the analyst or an administrator, case moves by a supervisor
        let design = format!(
            "body={}",
            sanad_web::pages::urlencode(&format!(
                "id = \"walk-{i}\"\nseed = 1\nunit = \"rsu_id\"\n[[arms]]\nname = \"all\"\nshare = 1.0\n"
            ))
        );
        let designer = matches!(role, MeAnalyst | Administrator);
        let res = app.post("/pilot/designs", &s, &design, true).await;
        assert_eq!(
            res.status,
            if designer {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            },
            "{role} POST /pilot/designs: {}",
            res.body
        );
        let res = app
            .post(&format!("/pilot/designs/walk-{i}/assign"), &s, "", true)
            .await;
        assert_eq!(
            res.status == StatusCode::FORBIDDEN,
            !designer,
            "{role} POST /pilot/designs/{{id}}/assign: {}",
            res.status
        );
        let res = app
            .post(
                "/pilot/caseload/reassign",
                &s,
                "household=500000000003&to=antenna_agent",
                true,
            )
            .await;
        assert_eq!(
            res.status == StatusCode::FORBIDDEN,
            role != AntennaSupervisor,
            "{role} POST /pilot/caseload/reassign: {}",
            res.status
        );
        // pilot outcomes import (issue 7): a refused file comes back on the page (422).
        for (uri, body) in [
            (
                "/pilot/outcomes/survey",
                "round=baseline&codebook_name=cb.csv&codebook=x&survey_name=s.csv&survey=y",
            ),
            ("/pilot/outcomes/lists", "list_name=l.csv&list=x"),
        ] {
            let res = app.post(uri, &s, body, true).await;
            assert_eq!(
                res.status,
                if designer {
                    StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    StatusCode::FORBIDDEN
                },
                "{role} POST {uri}: {}",
                res.body
            );
        }
        // A split (refused for an unknown member: nothing written) and a delivery report.
        let split = "leave=0000000000&relation.0000000000=head&new_rsu_id=500000000777&remaining_head=&effective=2026-11-01";
        let res = app
            .post("/households/500000000003/split", &s, split, true)
            .await;
        let want = if role.can(sanad_domain::Permission::ApplicationsIntake) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            res.status, want,
            "{role} POST /households/{{id}}/split: {}",
            res.body
        );
        let body = r#"{"effective":"2026-11-01","new_rsu_id":"500000000777","members":[{"idcs":"0000000000","relation":"head"}]}"#;
        assert_eq!(
            app.send(app.json_post("/api/v1/households/500000000003/split", &s, body))
                .await
                .status,
            want,
            "{role} POST /api/v1/households/{{id}}/split"
        );
        let report =
            r#"{"delivery_id":"gw-none","status":"delivered","at":"2026-11-20T10:00:00Z"}"#;
        let want = if role == Administrator {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            app.send(app.json_post("/api/v1/notify/delivery", &s, report))
                .await
                .status,
            want,
            "{role} POST /api/v1/notify/delivery"
        );
    }
    assert!(
        app.store
            .household(
                &Scope::National,
                &sanad_domain::RsuId::parse("500000000777").unwrap()
            )
            .await
            .unwrap()
            .is_none(),
        "no split was written"
    );
    // Approval: every role but the proposer's peers with the right is refused.
    for role in Role::ALL {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        let res = app.post("/rules/asd-walk-7/approve", &s, "", true).await;
        let want = match role {
            PaymentApprover => StatusCode::SEE_OTHER,
            Administrator => StatusCode::CONFLICT, // its own proposal, or already approved
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(res.status, want, "{role} approve");
    }
    let users = app.store.users().await.unwrap().len();
    assert_eq!(
        users,
        Role::ALL.len() + 2,
        "only the administrator created a user"
    );
}

#[tokio::test]
async fn another_regions_household_does_not_exist_for_an_agent() {
    let app = app().await;
    let s = app.login("agent01", PASSWORD).await.unwrap();
    assert_eq!(
        app.get("/households/500000000003", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/households/500000000003", Some(&s))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            "/api/v1/households/500000000003/entitlement?month=2026-11",
            Some(&s)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let search = app.get("/api/v1/households?q=500000000003", Some(&s)).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&search.body).unwrap()["items"],
        serde_json::json!([])
    );
    let page = app.get("/households?q=NOM3", Some(&s)).await;
    assert!(
        !page.body.contains("500000000003"),
        "no leak through name search"
    );
    let list: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/households", Some(&s)).await.body).unwrap();
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["rsu_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["500000000001", "500000000002"]);
    let counts: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/registry/regions", Some(&s)).await.body).unwrap();
    assert_eq!(
        counts.as_array().unwrap().len(),
        1,
        "counts cover the agent's region only: {counts}"
    );
    // Their own region's household opens, with its explanation.
    let own = app.get("/households/500000000001", Some(&s)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.body.contains("Prenom1 Nom1") && own.body.contains("id=\"eligibility\""));
}

#[tokio::test]
async fn national_ids_are_masked_for_roles_that_do_not_need_them() {
    let app = app().await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let officer = app.login("payment_officer", PASSWORD).await.unwrap();
    let full = app
        .get("/api/v1/households/500000000003", Some(&agent))
        .await
        .body;
    let masked = app
        .get("/api/v1/households/500000000003", Some(&officer))
        .await
        .body;
    assert!(
        full.contains("\"cnie\":\"BE3\"") || full.contains("BE3"),
        "{full}"
    );
    assert!(
        !masked.contains("BE3") && masked.contains("\"cnie\":\"***\""),
        "{masked}"
    );
    let idcs = sample(3, "04").members[0].idcs.to_string();
    assert!(full.contains(&idcs) && !masked.contains(&idcs));
    assert!(
        !app.get("/households/500000000003", Some(&officer))
            .await
            .body
            .contains(&idcs)
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token() {
    let app = app().await;
    let s = app.login("administrator", PASSWORD).await.unwrap();
    let form = "username=new.agent&display_name=New+Agent&role=antenna_agent&scope=regions%3A04&locale=fr&password=long+enough+pw";
    assert_eq!(
        app.post("/admin/users", &s, form, false).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(app.store.user("new.agent").await.unwrap().is_none());
    assert_eq!(
        app.post("/admin/users", &s, form, true).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(app.store.user("new.agent").await.unwrap().is_some());
    // Login itself is protected by its own token.
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("_csrf=x&username=administrator&password=y"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sessions_rotate_expire_and_end_at_logout() {
    let app = app().await;
    let a = app.login("auditor", PASSWORD).await.unwrap();
    let b = app.login("auditor", PASSWORD).await.unwrap();
    assert_ne!(a.cookie, b.cookie, "a new session id at every login");
    // Signing in again from a browser that still holds a session works, and replaces it.
    let form = app.get("/login", None).await;
    let token = set_cookie(&form, "sanad_login_csrf").unwrap();
    let relogin = Request::post("/login")
        .header(
            header::COOKIE,
            format!("sanad_login_csrf={token}; sanad_session={}", b.cookie),
        )
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={token}&username=auditor&password={}&next=/audit",
            PASSWORD.replace(' ', "+")
        )))
        .unwrap();
    let res = app.send(relogin).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert!(
        app.store
            .session(&auth::sha256_hex(&b.cookie))
            .await
            .unwrap()
            .is_none(),
        "the previous session is ended"
    );
    let b = Session {
        cookie: set_cookie(&res, "sanad_session").unwrap(),
        csrf: String::new(),
    };
    let b = Session {
        csrf: app
            .store
            .session(&auth::sha256_hex(&b.cookie))
            .await
            .unwrap()
            .unwrap()
            .csrf,
        ..b
    };
    let logout = app.post("/logout", &b, "", true).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/audit", Some(&b)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An idle session past the timeout is refused and deleted.
    let hash = auth::sha256_hex(&a.cookie);
    app.store
        .touch_session(&hash, auth::now_secs() - 31 * 60)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/v1/audit", Some(&a)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.store.session(&hash).await.unwrap().is_none());
}

#[tokio::test]
async fn repeated_failures_lock_the_account() {
    let app = app().await;
    for _ in 0..3 {
        let res = app.login("auditor", "wrong password!").await.err().unwrap();
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.contains("incorrect"));
    }
    let res = app
        .login("auditor", PASSWORD)
        .await
        .expect_err("locked even with the right password");
    assert!(res.body.contains("verrouillé"), "{}", res.body);
    assert!(app.login("nobody", PASSWORD).await.is_err());
}

#[tokio::test]
async fn api_tokens_act_within_their_scopes() {
    let app = app().await;
    let admin = app.login("administrator", PASSWORD).await.unwrap();
    let req = Request::post("/api/v1/tokens")
        .header(header::COOKIE, format!("sanad_session={}", admin.cookie))
        .header("x-csrf-token", &admin.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"name":"portal","username":"antenna_agent","scopes":"households:read"}"#,
        ))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let token = serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = |uri: &str, t: &str| {
        Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(
        app.send(bearer("/api/v1/households/500000000003", &token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(bearer("/api/v1/households/500000000001", &token))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the user's scope binds the token"
    );
    assert_eq!(
        app.send(bearer("/api/v1/rule-sets", &token)).await.status,
        StatusCode::FORBIDDEN,
        "rules:read was not granted"
    );
    assert_eq!(
        app.send(bearer("/api/v1/households", &format!("{token}x")))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let id = token.split('_').nth(1).unwrap();
    app.store
        .revoke_token(id, &sanad_store::Actor::new("administrator", "t"))
        .await
        .unwrap();
    assert_eq!(
        app.send(bearer("/api/v1/households", &token)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn rule_sets_are_proposed_by_one_user_approved_by_another_and_audited() {
    let app = app().await;
    let admin = app.login("administrator", PASSWORD).await.unwrap();
    let approver = app.login("payment_approver", PASSWORD).await.unwrap();
    let body = include_str!("../../../rules/asd-2026-11.toml")
        .replace("id = \"asd-2026-11\"", "id = \"asd-2027-01\"")
        .replace(
            "effective_from = \"2026-11-01\"",
            "effective_from = \"2027-01-01\"",
        );
    assert!(
        body.contains("asd-2027-01") && body.contains("2027-01-01"),
        "test fixture rewrite"
    );
    let form = format!(
        "body={}",
        sanad_web::pages::urlencode(&body).replace('/', "%2F")
    );
    let res = app.post("/rules/propose", &admin, &form, true).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(
        app.post("/rules/asd-2027-01/approve", &admin, "", true)
            .await
            .status,
        StatusCode::CONFLICT,
        "administrators may approve, but not their own"
    );
    let approve_page = app.get("/rules/asd-2027-01", Some(&approver)).await.body;
    assert!(approve_page.contains("/rules/asd-2027-01/approve"));
    assert_eq!(
        app.post("/rules/asd-2027-01/approve", &approver, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let list = app.get("/api/v1/rule-sets", Some(&approver)).await.body;
    assert!(
        list.contains("\"id\":\"asd-2027-01\"")
            && list.contains("\"approved_by\":\"payment_approver\""),
        "{list}"
    );
    let bad = app
        .post("/rules/propose", &admin, "body=id+%3D+%22x%22", true)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id = &quot;x&quot;") || bad.body.contains("id = \"x\""),
        "what was typed is kept"
    );

    let auditor = app.login("auditor", PASSWORD).await.unwrap();
    let log: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/audit?entity=rule_set", Some(&auditor))
            .await
            .body,
    )
    .unwrap();
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("approve", "payment_approver"),
            ("propose", "administrator")
        ]
    );
    assert!(log["items"][0]["request_id"].as_str().unwrap().len() == 16);
    let verify: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/audit/verify", Some(&auditor)).await.body).unwrap();
    assert_eq!(verify["problems"], serde_json::json!([]));
    let csv = app.get("/audit.csv?entity=rule_set", Some(&auditor)).await;
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
}

#[tokio::test]
async fn the_language_follows_the_user_then_accept_language() {
    let app = app().await;
    let req = Request::get("/login")
        .header(header::ACCEPT_LANGUAGE, "ar-MA,ar;q=0.9")
        .body(Body::empty())
        .unwrap();
    let page = app.send(req).await.body;
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">") && page.contains("تسجيل الدخول"));
    let s = app.login("antenna_agent", PASSWORD).await.unwrap();
    assert!(
        app.get("/", Some(&s))
            .await
            .body
            .contains("<html lang=\"fr\" dir=\"ltr\">")
    );
    assert_eq!(
        app.post("/settings/language", &s, "lang=en", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let home = app.get("/households/500000000003", Some(&s)).await.body;
    assert!(
        home.contains("<html lang=\"en\" dir=\"ltr\">") && home.contains("Members"),
        "the setting is kept in the profile"
    );
    assert_eq!(
        app.store
            .user("antenna_agent")
            .await
            .unwrap()
            .unwrap()
            .locale,
        "en"
    );
}

#[tokio::test]
async fn compute_endpoint_matches_the_cli_contract() {
    let app = app().await;
    let s = app.login("me_analyst", PASSWORD).await.unwrap();
    let input = include_str!("../../../docs/examples/household.json");
    let req = Request::post("/api/v1/entitlements/compute?month=2026-11")
        .header(header::COOKIE, format!("sanad_session={}", s.cookie))
        .header("x-csrf-token", &s.csrf)
        .body(Body::from(input))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let out: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let rules = sanad_rules::RuleBook::shipped();
    let want = sanad_rules::io::HouseholdInput::from_json(input)
        .unwrap()
        .compute(
            rules.for_month("2026-11".parse().unwrap()).unwrap(),
            "2026-11".parse().unwrap(),
        );
    assert_eq!(out, serde_json::to_value(want).unwrap());
    let bad = Request::post("/api/v1/entitlements/compute?month=2026-11")
        .header(header::COOKIE, format!("sanad_session={}", s.cookie))
        .header("x-csrf-token", &s.csrf)
        .body(Body::from(r#"{"household_id":"x","score":"abc"}"#))
        .unwrap();
    let res = app.send(bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("score"), "{}", res.body);
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let app = app().await;
    let doc: serde_json::Value =
        serde_json::from_str(&app.get("/api/v1/openapi.json", None).await.body).unwrap();
    for path in [
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/entitlements/compute",
        "/api/v1/rule-sets/{id}/approve",
        "/api/v1/audit/verify",
        "/api/v1/tokens",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    let src = include_str!("../src/api/mod.rs");
    let routed = src.matches(".route(").count() - 1; // minus openapi.json itself
    assert_eq!(
        doc["paths"].as_object().unwrap().len(),
        routed,
        "every routed path is documented"
    );
}

#[tokio::test]
async fn the_payroll_is_prepared_approved_and_released_from_the_web() {
    let app = app().await;
    // Three more households in region 04 whose spouse draws no pension: eligible.
    let eligible: Vec<_> = (7..10)
        .map(|n| {
            sanad_store::conformance::with(&sample(n, "04"), |p| {
                p.members[1].checks = Default::default()
            })
        })
        .collect();
    app.store
        .upsert_households(&eligible, Write::Apply)
        .await
        .unwrap();
    for c in [
        "child_allowance",
        "orphan_allowance",
        "disability_supplement",
        "floor_top_up",
        "flat_rate",
        "birth_grant",
        "school_start_grant",
    ] {
        app.store
            .set_appropriation(
                2026,
                c,
                1_000_000_000,
                &sanad_store::Actor::new("budget", "t"),
            )
            .await
            .unwrap();
    }
    // The payroll pays approved applications: the three apply (no list imported, so an agent
    // reviews them) and are approved; the three sample households never applied.
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    for h in &eligible {
        let body = format!(
            r#"{{"household_id":"{}","components":["child_allowance","flat_rate"]}}"#,
            h.rsu_id
        );
        let res = app
            .send(app.json_post("/api/v1/applications", &agent, &body))
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let file: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(file["status"], "in_review");
        let decided = app
            .post(
                &format!("/applications/{}/decide", file["receipt"].as_str().unwrap()),
                &agent,
                "decision=approve",
                true,
            )
            .await;
        assert_eq!(decided.status, StatusCode::SEE_OTHER);
    }
    let listed: serde_json::Value = serde_json::from_str(
        &app.get(
            &format!("/api/v1/households/{}/applications", eligible[0].rsu_id),
            Some(&agent),
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(
        listed[0]["start_month"], "2026-11",
        "entitled from the application month: {listed}"
    );
    let officer = app.login("payment_officer", PASSWORD).await.unwrap();
    let approver = app.login("payment_approver", PASSWORD).await.unwrap();
    let page = app.get("/payroll/2026-11", Some(&officer)).await.body;
    assert!(
        page.contains("/payroll/2026-11/prepare"),
        "the officer is offered to prepare"
    );
    assert_eq!(
        app.post("/payroll/2026-11/prepare", &approver, "", true)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post("/payroll/2026-11/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post("/payroll/2026-11/approve", &officer, "", true)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "the maker is not a checker"
    );
    assert_eq!(
        app.post("/payroll/2026-11/release", &officer, "", true)
            .await
            .status,
        StatusCode::CONFLICT,
        "not before approval"
    );
    assert!(
        app.get("/payroll/2026-11", Some(&approver))
            .await
            .body
            .contains("/payroll/2026-11/approve")
    );
    assert_eq!(
        app.post("/payroll/2026-11/approve", &approver, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post("/payroll/2026-11/release", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // One "payment issued" notice per payment, with its amount and month; releasing
    // again queues none twice.
    let payments = sanad_store::PayrollStore::payments(&*app.store, "2026-11")
        .await
        .unwrap();
    assert_eq!(payments.len(), 3);
    for pay in &payments {
        let msgs = app
            .store
            .messages_of(&Scope::National, &pay.rsu_id)
            .await
            .unwrap();
        let notice = msgs
            .iter()
            .find(|m| m.id == format!("payment:{}", pay.end_to_end_id))
            .unwrap_or_else(|| panic!("a notice for {}: {msgs:?}", pay.rsu_id));
        let amount = sanad_domain::Money::from_centimes(pay.amount)
            .to_string()
            .replace('.', ",");
        assert_eq!(
            (notice.template.as_str(), notice.language.as_str()),
            ("payment_issued", "fr")
        );
        assert!(
            notice.body.contains("11/2026")
                && notice.body.contains(&amount)
                && notice.body.contains(&pay.end_to_end_id),
            "{}",
            notice.body
        );
    }
    let queued = app.store.message_counts(&Scope::National).await.unwrap();
    assert_eq!(
        app.post("/payroll/2026-11/release", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER,
        "a release asked again checks its files"
    );
    assert_eq!(
        app.store.message_counts(&Scope::National).await.unwrap(),
        queued,
        "and queues no notice twice"
    );

    let summary: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/payroll/2026-11", Some(&approver))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(summary["status"], "released");
    assert_eq!(
        (
            summary["prepared_by"].as_str(),
            summary["approved_by"].as_str()
        ),
        (Some("payment_officer"), Some("payment_approver"))
    );
    let paid = summary["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l[0] == "pay")
        .unwrap_or_else(|| panic!("{summary}"))
        .clone();
    assert_eq!(
        paid[1], 3,
        "the three approved households are paid, and only they"
    );
    let files = summary["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "split at two payments per file: {files:?}");
    assert_eq!(
        files
            .iter()
            .map(|f| f["ctrl_sum"].as_i64().unwrap())
            .sum::<i64>(),
        paid[2].as_i64().unwrap(),
        "control sums add up to the payroll"
    );
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let page = app
        .get(&format!("/households/{}", eligible[0].rsu_id), Some(&agent))
        .await
        .body;
    let section = &page[page.find("id=\"payments\"").expect("a payments section")..];
    assert!(
        section.contains("2026-11") && section.contains("BANK230") && section.contains("Émis"),
        "{section}"
    );
    let budget = app
        .get("/payroll/2026-11/budget.csv", Some(&approver))
        .await
        .body;
    assert_eq!(
        budget.lines().count(),
        8,
        "a header and the seven components: {budget}"
    );
    let page = app.get("/payroll/2026-11", Some(&approver)).await.body;
    let chart = &page[page
        .find("svg class=\"chart budget\"")
        .expect("a budget chart")..];
    let chart = &chart[..chart.find("</svg>").unwrap()];
    assert_eq!(
        chart.matches("class=\"payroll\"").count(),
        7,
        "one bar per component: {chart}"
    );
    assert!(
        !chart.contains("forecast over"),
        "no component overruns a 10 M MAD appropriation: {chart}"
    );
    let flat = budget.lines().find(|l| l.contains(",flat_rate,")).unwrap();
    assert!(
        flat.starts_with("2026,2026-11,flat_rate,1000000000,0,"),
        "{flat}"
    );
    let csv = app
        .get("/payroll/2026-11/reconciliation.csv", Some(&approver))
        .await
        .body;
    assert!(
        csv.starts_with("month,provider,sent_count")
            && csv
                .lines()
                .nth(1)
                .unwrap()
                .starts_with("2026-11,BANK230,3,"),
        "{csv}"
    );
    let log: serde_json::Value = serde_json::from_str(
        &app.get(
            "/api/v1/audit?entity=payroll_cycle",
            Some(&app.login("auditor", PASSWORD).await.unwrap()),
        )
        .await
        .body,
    )
    .unwrap();
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["action"].as_str().unwrap(), r["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("release", "payment_officer"),
            ("approve", "payment_approver"),
            ("prepare", "payment_officer")
        ]
    );
    let page = app
        .get(&format!("/households/{}", eligible[0].rsu_id), Some(&agent))
        .await
        .body;
    assert!(
        page.contains("payée à partir de"),
        "the household page says from when it is paid"
    );

    // A birth on 1 November, declared on the 20th after November was paid: December's payroll
    // pays the new child's November allowance and the birth grant as arrears.
    let head = &eligible[0].members[0];
    let birth = serde_json::json!({"effective": "2026-11-01", "kind": {"event": "birth", "child": {
        "idcs": sanad_domain::Idcs::from_body(12_345_678).to_string(), "cnie": null, "first_name": "Yasmine", "last_name": head.last_name, "first_name_ar": "ياسمين", "last_name_ar": head.last_name_ar,
        "sex": "F", "birth_date": "2026-11-01", "death_date": null, "relation": "child", "marital_status": "single", "schooling": "none",
        "disability": "none", "father_deceased": false, "checks": {}}}});
    let path = format!("/api/v1/households/{}/events", eligible[0].rsu_id);
    let res = app
        .send(app.json_post(&path, &agent, &birth.to_string()))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let outcome: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let owed = outcome["arrears"].as_i64().unwrap();
    assert!(
        owed > 0 && outcome["overpayment"] == 0 && outcome["lifecycle"] == "continue",
        "{outcome}"
    );
    let again = app
        .send(app.json_post(&path, &agent, &birth.to_string()))
        .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the same child cannot be born twice: {}",
        again.body
    );
    let page = app
        .get(&format!("/households/{}", eligible[0].rsu_id), Some(&agent))
        .await
        .body;
    assert!(
        page.contains("Yasmine")
            && page[page.find("id=\"events\"").unwrap()..].contains("Naissance"),
        "the household page shows the child and the event"
    );
    assert_eq!(
        app.post("/payroll/2026-12/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let lines = sanad_store::PayrollStore::payroll_lines(&*app.store, "2026-12")
        .await
        .unwrap();
    let line = lines
        .iter()
        .find(|l| l.rsu_id == eligible[0].rsu_id.to_string())
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&line.body).unwrap();
    let arrears = |component: &str| {
        body["explanation"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["kind"] == "arrears" && e["component"] == component && e["month"] == "2026-11"
            })
            .map(|e| e["amount"].as_i64().unwrap())
    };
    assert_eq!(
        arrears("child_allowance"),
        Some(owed),
        "November's new allowance, as the declaration said: {body}"
    );
    assert!(
        arrears("birth_grant").is_some_and(|a| a > 0),
        "and the birth grant of the month of birth: {body}"
    );
    let other = lines
        .iter()
        .find(|l| l.rsu_id == eligible[1].rsu_id.to_string())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&other.body).unwrap()["arrears"].as_i64(),
        Some(0),
        "no event, nothing to settle"
    );
}

/// Declaring an event is an agent's or supervisor's work, within their scope.
#[tokio::test]
async fn events_are_declared_by_agents_within_their_scope() {
    let app = app().await;
    let phone =
        r#"{"effective": "2026-11-20", "kind": {"event": "phone_change", "phone": "0611223344"}}"#;
    for role in Role::ALL {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        let res = app
            .send(app.json_post("/api/v1/households/500000000003/events", &s, phone))
            .await;
        let want = if role.can(sanad_domain::Permission::ApplicationsIntake) {
            StatusCode::CREATED
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(res.status, want, "{role}: {}", res.body);
    }
    let agent01 = app.login("agent01", PASSWORD).await.unwrap();
    assert_eq!(
        app.send(app.json_post("/api/v1/households/500000000003/events", &agent01, phone))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "another region's household"
    );
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let form = "kind=death&effective=2026-11-10&person=0000000000";
    assert_eq!(
        app.post("/households/500000000003/events", &agent, form, true)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a member"
    );
    let member = sanad_store::conformance::sample(3, "04").members[0]
        .idcs
        .to_string();
    let res = app
        .post(
            "/households/500000000003/events",
            &agent,
            &format!("kind=death&effective=2026-11-10&person={member}"),
            true,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let list: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/households/500000000003/events", Some(&agent))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(list[0]["kind"], "death");
    // With the spouse gone too, nobody is left to pay: the household is suspended and told so.
    let spouse = sanad_store::conformance::sample(3, "04").members[1]
        .idcs
        .to_string();
    let body = format!(
        r#"{{"effective": "2026-11-12", "kind": {{"event": "death", "person": "{spouse}"}}}}"#
    );
    let res = app
        .send(app.json_post("/api/v1/households/500000000003/events", &agent, &body))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let outcome: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(outcome["lifecycle"], "suspend", "{outcome}");
    let msgs = app
        .store
        .messages_of(&Scope::National, "500000000003")
        .await
        .unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.template == "suspension" && m.id == format!("suspension:{}", outcome["id"])),
        "{msgs:?}"
    );
    let log: serde_json::Value = serde_json::from_str(
        &app.get(
            "/api/v1/audit?entity=life_event",
            Some(&app.login("auditor", PASSWORD).await.unwrap()),
        )
        .await
        .body,
    )
    .unwrap();
    assert!(!log["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_agent_takes_an_application_with_its_checks_and_receipt() {
    let app = app().await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let officer = app.login("payment_officer", PASSWORD).await.unwrap();
    let submit = |s: &Session, body: &str| {
        Request::post("/api/v1/applications")
            .header(header::COOKIE, format!("sanad_session={}", s.cookie))
            .header("x-csrf-token", &s.csrf)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let body = r#"{"household_id":"500000000003","components":["child_allowance"]}"#;
    assert_eq!(
        app.send(submit(&officer, body)).await.status,
        StatusCode::FORBIDDEN,
        "payment officers do not take applications"
    );
    let other = r#"{"household_id":"500000000001","components":["child_allowance"]}"#;
    assert_eq!(
        app.send(submit(&agent, other)).await.status,
        StatusCode::NOT_FOUND,
        "another region's household"
    );

    let res = app.send(submit(&agent, body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let file: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let receipt = file["receipt"].as_str().unwrap().to_owned();
    assert!(
        receipt.starts_with("ASD-") && receipt.len() == 18,
        "{receipt}"
    );
    assert_eq!(
        file["checks"].as_array().unwrap().len(),
        13,
        "every check, each with its outcome"
    );
    // The spouse of the sample household draws a pension (CMR): a conclusive exclusion.
    let pension = file["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "pension")
        .unwrap()
        .clone();
    assert_eq!(pension["outcome"], "fail", "{pension}");
    // No cross-check list is imported, so those checks are open: a person reviews it, with
    // the pension failure already established.
    assert_eq!(file["status"], "in_review");
    assert_eq!(file["decision"]["decision"], "review");
    assert!(
        file["decision"]["failed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("pension")),
        "{}",
        file["decision"]
    );

    let again = app.send(submit(&agent, body)).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "one open application per component: {}",
        again.body
    );
    let page = app.get("/households/500000000003", Some(&agent)).await.body;
    assert!(page.contains(&receipt) && page.contains("id=\"applications\""));
    let list: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/households/500000000003/applications", Some(&agent))
            .await
            .body,
    )
    .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["receipt"] == receipt.as_str())
    );
    // The review queue: the agent of the household's region sees it, another region's does not.
    assert!(
        app.get("/applications", Some(&agent))
            .await
            .body
            .contains(&receipt)
    );
    let agent01 = app.login("agent01", PASSWORD).await.unwrap();
    assert!(
        !app.get("/applications", Some(&agent01))
            .await
            .body
            .contains(&receipt),
        "no leak through the queue"
    );
    let path = format!("/applications/{receipt}/decide");
    assert_eq!(
        app.post(&path, &agent01, "decision=approve", true)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&path, &agent, "decision=reject&reason=bogus", true)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            &path,
            &agent,
            "decision=reject&reason=excluded_pensioner",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        !app.get("/applications", Some(&agent))
            .await
            .body
            .contains(&receipt),
        "decided: out of the queue"
    );
    assert_eq!(
        app.post(&path, &agent, "decision=approve", true)
            .await
            .status,
        StatusCode::CONFLICT,
        "a decision is final"
    );
    let list: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/households/500000000003/applications", Some(&agent))
            .await
            .body,
    )
    .unwrap();
    let decided = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["receipt"] == receipt.as_str())
        .unwrap();
    assert_eq!(decided["status"], "rejected");
    assert_eq!(
        app.send(submit(&agent, body)).await.status,
        StatusCode::CREATED,
        "once decided, a new application may be made"
    );

    let auditor = app.login("auditor", PASSWORD).await.unwrap();
    let log: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/audit?entity=application", Some(&auditor))
            .await
            .body,
    )
    .unwrap();
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["entity_id"] == receipt.as_str())
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["decide", "submit"]);
}

/// With the cross-check lists imported, their checks are conclusive and cite the list.
#[tokio::test]
async fn imported_lists_make_checks_conclusive_with_evidence() {
    let app = app().await;
    let today = TODAY;
    let examples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../applications/examples");
    for f in [
        "family_allowance.csv",
        "public_payroll.csv",
        "pensions.csv",
        "deaths.csv",
        "school_enrolment.csv",
        "disability_cards.csv",
    ] {
        let text = std::fs::read_to_string(examples.join(f)).unwrap();
        // Dated today, so the lists are never too old for the test's application.
        let (header, rest) = text.split_once('\n').unwrap();
        let header: Vec<String> = header
            .split_whitespace()
            .map(|kv| {
                if kv.starts_with("as_of=") {
                    format!("as_of={today}")
                } else {
                    kv.to_owned()
                }
            })
            .collect();
        let dated = format!("{}\n{rest}", header.join(" "));
        let (meta, rows) = sanad_applications::lists::parse_any(f, dated.as_bytes())
            .unwrap_or_else(|e| panic!("{f}: {e:?}"));
        app.store
            .replace_list(
                meta.kind.code(),
                &serde_json::to_string(&meta).unwrap(),
                &rows,
                &sanad_store::Actor::new("test", "lists"),
            )
            .await
            .unwrap();
    }
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let req = Request::post("/api/v1/applications")
        .header(header::COOKIE, format!("sanad_session={}", agent.cookie))
        .header("x-csrf-token", &agent.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            r#"{"household_id":"500000000003","components":["flat_rate"]}"#,
        ))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let file: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let check = |code: &str| {
        file["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap()
            .clone()
    };
    let fa = check("family_allowance");
    assert_eq!(fa["outcome"], "pass", "{fa}");
    assert!(
        fa.to_string().contains("CNSS-AF"),
        "the evidence names the list: {fa}"
    );
    assert_ne!(check("death")["outcome"], "inconclusive");
}

/// Notices go to the outbox in the household's language: the receipt on submission, the
/// decision with its reasons and appeal deadline; the outbox page shows them within the scope
/// and queues a dead message again; the household page tells it all in date order.
#[tokio::test]
async fn notices_are_queued_shown_in_scope_and_a_dead_one_sent_again() {
    let app = app().await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let agent01 = app.login("agent01", PASSWORD).await.unwrap();
    let body =
        r#"{"household_id":"500000000003","components":["child_allowance"],"language":"ar"}"#;
    let req = Request::post("/api/v1/applications")
        .header(header::COOKIE, format!("sanad_session={}", agent.cookie))
        .header("x-csrf-token", &agent.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let receipt = serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["receipt"]
        .as_str()
        .unwrap()
        .to_owned();
    let msgs = app
        .store
        .messages_of(&Scope::National, "500000000003")
        .await
        .unwrap();
    assert_eq!(msgs.len(), 1, "in review: only the receipt so far");
    assert_eq!(
        (
            msgs[0].id.clone(),
            msgs[0].template.as_str(),
            msgs[0].language.as_str(),
            msgs[0].status.as_str()
        ),
        (format!("receipt:{receipt}"), "receipt", "ar", "queued")
    );
    assert!(
        msgs[0].body.contains(&receipt) && msgs[0].body.starts_with("سند"),
        "{}",
        msgs[0].body
    );
    assert_eq!(msgs[0].recipient, "+212600000003");

    let decide = format!("/applications/{receipt}/decide");
    assert_eq!(
        app.post(
            &decide,
            &agent,
            "decision=reject&reason=excluded_pensioner",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let msgs = app
        .store
        .messages_of(&Scope::National, "500000000003")
        .await
        .unwrap();
    let decision = msgs
        .iter()
        .find(|m| m.template == "rejected")
        .expect("the decision is queued");
    let appeal = (TODAY.parse::<chrono::NaiveDate>().unwrap() + chrono::Duration::days(15))
        .format("%d/%m/%Y")
        .to_string();
    assert!(
        decision.body.contains(&appeal) && decision.body.contains(&receipt),
        "reasons and appeal deadline: {}",
        decision.body
    );
    assert_eq!(decision.language, "ar");

    // The outbox page, within the scope.
    let page = app.get("/outbox", Some(&agent)).await;
    assert!(
        page.body.contains("500000000003") && page.body.contains(&decision.body),
        "{}",
        &page.body[..page.body.len().min(500)]
    );
    assert!(
        !app.get("/outbox", Some(&agent01))
            .await
            .body
            .contains("500000000003"),
        "no leak to another region"
    );
    assert_eq!(
        app.get("/outbox?status=bogus", Some(&agent)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A message given up is sent again on request, by someone whose scope holds it.
    let id = format!("receipt:{receipt}");
    app.store
        .mark_failed(&id, "permanent: HTTP 400: invalid number", None)
        .await
        .unwrap();
    let dead = app.get("/outbox?status=dead", Some(&agent)).await.body;
    assert!(
        dead.contains("invalid number") && dead.contains("/retry"),
        "{dead}"
    );
    let retry = format!("/outbox/{}/retry", sanad_web::pages::urlencode(&id));
    assert_eq!(
        app.post(&retry, &agent01, "", true).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&retry, &agent, "", false).await.status,
        StatusCode::FORBIDDEN,
        "CSRF"
    );
    assert_eq!(
        app.post(&retry, &agent, "", true).await.status,
        StatusCode::SEE_OTHER
    );
    let again = app
        .store
        .messages(&Scope::National, Some("queued"), 10)
        .await
        .unwrap();
    assert!(again.iter().any(|m| m.id == id && m.attempts == 0));
    assert_eq!(
        app.post(&retry, &agent, "", true).await.status,
        StatusCode::NOT_FOUND,
        "only a dead message"
    );
    let auditor = app.login("auditor", PASSWORD).await.unwrap();
    let log: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/audit?entity=message", Some(&auditor))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(log["items"][0]["actor"], "antenna_agent");

    // The household page's form asks the notices' language too.
    let form = app.get("/households/500000000003", Some(&agent)).await.body;
    assert!(
        form.contains("name=\"language\""),
        "a language choice on the intake form"
    );
    assert_eq!(
        app.post(
            "/households/500000000003/applications",
            &agent,
            "child_allowance=1&language=fr",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let receipts: Vec<String> = app
        .store
        .messages_of(&Scope::National, "500000000003")
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "receipt")
        .map(|m| m.language)
        .collect();
    assert_eq!(
        receipts,
        ["ar", "fr"],
        "each application's notices in the language given with it"
    );

    // The household's timeline: submitted, decided, messages, scores, in date order.
    let page = app.get("/households/500000000003", Some(&agent)).await.body;
    let timeline = &page[page.find("id=\"timeline\"").expect("a timeline section")..];
    for label in ["Demande déposée", "Décision", "Message", "Score"] {
        assert!(timeline.contains(label), "{label}: {timeline}");
    }
    let dates: Vec<&str> = timeline
        .match_indices("datetime=\"")
        .map(|(i, _)| &timeline[i + 10..i + 20])
        .collect();
    assert!(
        dates.len() >= 4 && dates.windows(2).all(|w| w[0] <= w[1]),
        "in date order: {dates:?}"
    );
}

// ---- pilot (issue 7) ----

/// The shipped catalogue (disability care reduced to one place per antenna) and a plan whose
/// pilot antenna is 04.421, started long ago, so the fixture's region-04 staff can work.
async fn seed_pilot(app: &App) {
    use sanad_pilot::{Catalogue, Pilot, PlannedAntenna, RolloutPlan};
    let shipped = Catalogue::shipped();
    let mut measures = shipped.measures().to_vec();
    measures
        .iter_mut()
        .filter(|m| m.id.as_str() == "disability-care")
        .for_each(|m| m.capacity_per_antenna = 1);
    let catalogue = Catalogue::new(shipped.version().to_owned(), measures).unwrap();
    let antenna = |p: &str, wave, start: &str| PlannedAntenna {
        province: p.into(),
        wave,
        start: start.parse().unwrap(),
    };
    let plan = RolloutPlan::new(
        None,
        vec![
            antenna("04.421", 1, "2024-01"),
            antenna("01.511", 2, "2099-01"),
        ],
    )
    .unwrap();
    let (measures, antennas) = service::pilot::config_rows(&Pilot { catalogue, plan }).unwrap();
    app.store
        .save_pilot_config(
            &measures,
            &antennas,
            &sanad_store::Actor::new("test", "setup"),
        )
        .await
        .unwrap();
    // Households 5 and 6 of region 04 are eligible to the ASD (no pension in the household).
    let eligible: Vec<_> = [5, 6]
        .iter()
        .map(|n| {
            sanad_store::conformance::with(&sample(*n, "04"), |p| {
                p.members[1].checks = Default::default()
            })
        })
        .collect();
    app.store
        .upsert_households(&eligible, Write::Apply)
        .await
        .unwrap();
}

fn days(n: i64) -> String {
    (chrono::Local::now().date_naive() + chrono::Duration::days(n)).to_string()
}

#[tokio::test]
async fn a_social_worker_follows_a_household_through_its_case() {
    let app = app().await;
    seed_pilot(&app).await;
    let s = app.login("antenna_agent", PASSWORD).await.unwrap();
    let page = app.get("/pilot/cases/500000000003", Some(&s)).await;
    assert!(
        page.body
            .contains("action=\"/pilot/cases/500000000003/open\""),
        "no case yet: an open button"
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/open", &s, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/open", &s, "", true)
            .await
            .status,
        StatusCode::CONFLICT,
        "one open case per household"
    );
    let goal = format!(
        "domain=health&text=Carte+handicap+renouvel%C3%A9e&target_date={}",
        days(60)
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/goals", &s, &goal, true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let visit = format!(
        "date={}&attendance=present&notes=Famille+re%C3%A7ue+%C3%A0+domicile&next_steps=Appeler+l%27%C3%A9cole&next_visit={}",
        days(0),
        days(10)
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/visits", &s, &visit, true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let future = format!("date={}&attendance=present", days(3));
    assert_eq!(
        app.post("/pilot/cases/500000000003/visits", &s, &future, true)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no visit in the future"
    );
    let referral = format!(
        "service=health_centre&detail=CS+Hay+Nahda&sent_on={}",
        days(0)
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/referrals", &s, &referral, true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let outcome = format!("status=completed&on={}&outcome=Bilan+fait", days(0));
    assert_eq!(
        app.post("/pilot/cases/500000000003/referrals/1", &s, &outcome, true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/referrals/1", &s, &outcome, true)
            .await
            .status,
        StatusCode::CONFLICT,
        "a completed referral is final"
    );

    let page = app.get("/pilot/cases/500000000003", Some(&s)).await.body;
    for shown in [
        "Carte handicap renouvelée",
        "Famille reçue à domicile",
        "Appeler l'école",
        "CS Hay Nahda",
        "Bilan fait",
        "Aboutie",
    ] {
        assert!(page.contains(shown), "the case page shows {shown}");
    }
    let case = app
        .store
        .open_case(&Scope::National, "500000000003")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            case.worker.as_str(),
            case.visits.len(),
            case.referrals[0].status.as_str()
        ),
        ("antenna_agent", 1, "completed")
    );
    // The goal is reached once; the case is closed with a reason, and may be opened again.
    assert_eq!(
        app.post(
            "/pilot/cases/500000000003/goals/1",
            &s,
            "status=achieved",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000003/goals/1",
            &s,
            "status=dropped",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post("/pilot/cases/500000000003/close", &s, "reason=", true)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000003/close",
            &s,
            "reason=Objectifs+atteints",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        app.store
            .open_case(&Scope::National, "500000000003")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        app.get("/pilot/cases/500000000003", Some(&s))
            .await
            .body
            .contains("action=\"/pilot/cases/500000000003/open\"")
    );
    let log = app
        .store
        .audit_records(
            &sanad_store::AuditFilter {
                entity: Some("pilot_case".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        log.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        [
            "close",
            "set_goal_status",
            "update_referral",
            "refer",
            "record_visit",
            "add_goal",
            "open"
        ]
    );
}

#[tokio::test]
async fn the_caseload_shows_overdue_follow_ups_and_another_antenna_sees_nothing() {
    use sanad_store::pilot::CaseRow;
    let app = app().await;
    seed_pilot(&app).await;
    // A case opened 70 days ago and never visited: more than twice the 30-day interval.
    let stale = CaseRow {
        rsu_id: "500000000005".into(),
        antenna: "04.421".into(),
        worker: "antenna_agent".into(),
        opened_on: days(-70),
        closure: None,
        goals: "[]".into(),
        visits: vec![],
        referrals: vec![],
    };
    app.store
        .save_case(
            &stale,
            "open",
            &sanad_store::Actor::new("antenna_agent", "t"),
        )
        .await
        .unwrap();
    let s = app.login("antenna_agent", PASSWORD).await.unwrap();
    let page = app.get("/pilot/caseload", Some(&s)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("href=\"/pilot/cases/500000000005\"")
            && page.body.contains("Visite en retard"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("badge overdue"),
        "the next contact is overdue"
    );
    // The supervisor of the same antenna sees the team's cases, by worker.
    let sup = app.login("antenna_supervisor", PASSWORD).await.unwrap();
    let team = app.get("/pilot/caseload", Some(&sup)).await.body;
    assert!(
        team.contains("href=\"/pilot/cases/500000000005\"")
            && team.contains("<td>antenna_agent</td><td class=\"num\">1</td>"),
        "{team}"
    );
    // An agent of region 01 sees nothing of region 04's households, and cannot write to them.
    let other = app.login("agent01", PASSWORD).await.unwrap();
    assert_eq!(
        app.get("/pilot/cases/500000000005", Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let visit = format!("date={}&attendance=present&notes=x", days(0));
    assert_eq!(
        app.post("/pilot/cases/500000000005/visits", &other, &visit, true)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !app.get("/pilot/caseload", Some(&other))
            .await
            .body
            .contains("500000000005")
    );
    assert!(
        app.store
            .open_case(&Scope::National, "500000000005")
            .await
            .unwrap()
            .unwrap()
            .visits
            .is_empty()
    );
    // Every role writes a visit: antenna staff may (303), every other role is refused (403).
    for role in Role::ALL {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        let res = app
            .post("/pilot/cases/500000000005/visits", &s, &visit, true)
            .await;
        let allowed = matches!(role, Role::AntennaAgent | Role::AntennaSupervisor);
        assert_eq!(
            res.status,
            if allowed {
                StatusCode::SEE_OTHER
            } else {
                StatusCode::FORBIDDEN
            },
            "{role} POST a visit"
        );
        let enrol = app
            .post(
                "/pilot/cases/500000000005/enrol",
                &s,
                "measure=school-return",
                true,
            )
            .await;
        assert_eq!(
            enrol.status == StatusCode::FORBIDDEN,
            !allowed,
            "{role} POST an enrolment: {}",
            enrol.status
        );
    }
    assert_eq!(
        app.store
            .open_case(&Scope::National, "500000000005")
            .await
            .unwrap()
            .unwrap()
            .visits
            .len(),
        2
    );
}

#[tokio::test]
async fn enrolment_respects_the_target_group_and_the_places_left() {
    let app = app().await;
    seed_pilot(&app).await;
    let s = app.login("antenna_agent", PASSWORD).await.unwrap();
    let not_asd = app.get("/pilot/cases/500000000003", Some(&s)).await.body;
    assert!(
        !not_asd.contains("name=\"measure\"") && not_asd.contains("Hors du groupe cible"),
        "a household outside the ASD is offered no measure, and told why"
    );
    let page = app.get("/pilot/cases/500000000005", Some(&s)).await.body;
    assert!(
        page.contains("name=\"measure\" value=\"disability-care\""),
        "a severely disabled member: disability care is offered"
    );
    assert!(
        !page.contains("name=\"measure\" value=\"school-return\""),
        "the child is in school: not offered"
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrol",
            &s,
            "measure=school-return",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000003/enrol",
            &s,
            "measure=disability-care",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT,
        "not in the ASD"
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrol",
            &s,
            "measure=disability-care",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrol",
            &s,
            "measure=disability-care",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT,
        "already enrolled"
    );
    let full = app
        .post(
            "/pilot/cases/500000000006/enrol",
            &s,
            "measure=disability-care",
            true,
        )
        .await;
    assert_eq!(
        full.status,
        StatusCode::CONFLICT,
        "the single place is taken"
    );
    let enrolled: Vec<String> = app
        .store
        .enrolments(&Scope::National)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}/{}", e.rsu_id, e.measure_id))
        .collect();
    assert_eq!(enrolled, ["500000000005/disability-care"]);
    let page = app.get("/pilot/cases/500000000005", Some(&s)).await.body;
    assert!(
        page.contains("<code>disability-care</code>")
            && !page.contains("name=\"measure\" value=\"disability-care\""),
        "enrolled: listed, not offered again"
    );
    // Ending the enrolment frees the place for the next household.
    let exit = "reason=no_longer_eligible&note=Carte+obtenue";
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrolments/disability-care/exit",
            &s,
            "reason=gone",
            true
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrolments/disability-care/exit",
            &s,
            exit,
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrolments/disability-care/exit",
            &s,
            exit,
            true
        )
        .await
        .status,
        StatusCode::NOT_FOUND,
        "no active enrolment left"
    );
    assert_eq!(
        app.post(
            "/pilot/cases/500000000006/enrol",
            &s,
            "measure=disability-care",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let rows = app.store.enrolments(&Scope::National).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|e| (
                e.rsu_id.as_str(),
                e.exit.as_ref().map(|x| x.reason.as_str())
            ))
            .collect::<Vec<_>>(),
        [
            ("500000000005", Some("no_longer_eligible")),
            ("500000000006", None)
        ]
    );
    assert!(
        app.get("/pilot/cases/500000000005", Some(&s))
            .await
            .body
            .contains("sorti du groupe cible")
    );
    let measures = app
        .get(
            "/pilot/measures",
            Some(&app.login("me_analyst", PASSWORD).await.unwrap()),
        )
        .await
        .body;
    assert!(measures.contains("id=\"measure-disability-care\""));
    let section = &measures[measures.find("id=\"measure-disability-care\"").unwrap()..];
    let row = &section[section.find("04.421").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("<td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">0</td>"),
        "wave 1, one used, none left: {row}"
    );
}

#[tokio::test]
async fn designs_show_their_frozen_hash_and_arm_counts() {
    let app = app().await;
    let design = sanad_evaluation::pilot::pilot_design(20270101);
    let body = design.canonical_json();
    app.store
        .register_design(
            "demo-pilot",
            &body,
            &sanad_store::Actor::new("me_analyst", "t"),
        )
        .await
        .unwrap();
    let units = vec![
        sanad_store::pilot::AssignmentRow {
            unit: "500000000001".into(),
            arm: "control".into(),
            stratum: "01".into(),
            wave: None,
        },
        sanad_store::pilot::AssignmentRow {
            unit: "500000000002".into(),
            arm: "treatment".into(),
            stratum: "01".into(),
            wave: None,
        },
    ];
    app.store
        .save_assignment(
            "demo-pilot",
            &units,
            &sanad_store::Actor::new("me_analyst", "t"),
        )
        .await
        .unwrap();
    let s = app.login("me_analyst", PASSWORD).await.unwrap();
    let page = app.get("/pilot/designs", Some(&s)).await.body;
    assert!(
        page.contains(&design.hash()),
        "the stored hash is the design's own hash"
    );
    assert!(
        page.contains("empreinte vérifiée")
            && page.contains("sanad-assign-v1")
            && page.contains("20270101")
    );
}

/// A member's CNIE held in another household, and a child with the same name and birth date
/// registered elsewhere, send an application to review, whatever region the other is in.
#[tokio::test]
async fn intake_finds_duplicates_across_the_whole_registry() {
    let app = app().await;
    let mine = sample(3, "04");
    // Household 4 (region 01, out of the agent's scope) has the head's CNIE; household 5 a
    // child born the same day under the same last name and first name.
    let four = sanad_store::conformance::with(&sample(4, "01"), |p| {
        p.members[0].cnie = mine.members[0].cnie.clone()
    });
    let five = sanad_store::conformance::with(&sample(5, "01"), |p| {
        p.members[2].last_name = mine.members[2].last_name.clone()
    });
    app.store
        .upsert_households(&[four, five], Write::Apply)
        .await
        .unwrap();
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let body = r#"{"household_id":"500000000003","components":["child_allowance"]}"#;
    let res = app
        .send(app.json_post("/api/v1/applications", &agent, body))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let file: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let check = |code: &str| {
        file["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == code)
            .unwrap()
            .clone()
    };
    let identity = check("duplicate_identity");
    assert_eq!(identity["outcome"], "inconclusive", "{identity}");
    assert!(
        identity.to_string().contains("500000000004"),
        "the evidence names the other household: {identity}"
    );
    let similar = check("similar_person");
    assert_eq!(similar["outcome"], "inconclusive", "{similar}");
    assert!(similar.to_string().contains("500000000005"), "{similar}");
    assert_eq!(
        check("shared_phone")["outcome"],
        "pass",
        "{}",
        check("shared_phone")
    );
    assert_eq!(file["status"], "in_review");
}

/// A national score refresh records every new score, re-evaluates only the households it moves
/// across the threshold, reports unknown households by line, and changes nothing when re-run.
#[tokio::test]
async fn a_score_refresh_re_evaluates_the_households_it_moves() {
    let app = app().await;
    let state = AppState::new(app.store.clone(), SecurityConfig::default())
        .with_today(TODAY.parse().unwrap());
    approved(&app, 9..10).await;
    let text = "rsu_id,score,computed_on,valid_from\n\
        500000000001,12.5,2026-09-20,2026-10-01\n\
        500000000002,9.1,2026-09-20,2026-10-01\n\
        599999999999,8.0,2026-09-20,2026-10-01\n\
        500000000003,9.743001,2024-03-01,2024-03-08\n\
        500000000009,15.0,2026-02-20,2026-03-01\n";
    let updates: Vec<_> = sanad_applications::ScoreUpdates::new("refresh.csv", text.as_bytes())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let actor = sanad_store::Actor::new("rsu-feed", "test");
    let on: chrono::NaiveDate = TODAY.parse().unwrap();
    let sum = service::refresh_scores(&state, &actor, &updates, on)
        .await
        .unwrap();
    assert_eq!(
        (sum.rows, sum.new_scores, sum.moved, sum.suspended),
        (5, 3, 2, 1),
        "{sum:?}"
    );
    assert_eq!(
        sum.refused,
        [(
            4,
            "rsu_id: no household 599999999999 in the registry".to_owned()
        )]
    );
    let events = app.store.events_of("500000000001").await.unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| (e.kind.as_str(), e.effective.as_str()))
            .collect::<Vec<_>>(),
        [("score_update", "2026-10-01")]
    );
    assert!(
        app.store
            .events_of("500000000002")
            .await
            .unwrap()
            .is_empty(),
        "a score that stays under the threshold changes no payment"
    );
    let two = app
        .store
        .household(
            &Scope::National,
            &sanad_domain::RsuId::parse("500000000002").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        two.scores.latest().unwrap().value.to_string(),
        "9.100000",
        "but the score is recorded"
    );
    let msgs = app
        .store
        .messages_of(&Scope::National, "500000000001")
        .await
        .unwrap();
    assert_eq!(
        msgs.iter().map(|m| m.template.as_str()).collect::<Vec<_>>(),
        ["suspension"]
    );
    // Household 9, rescored above the threshold since March: its notice has run out, so its
    // awards end with the refresh, and it is told.
    let nine = app.store.awards_of("500000000009").await.unwrap();
    assert!(
        !nine.is_empty()
            && nine
                .iter()
                .all(|a| a.end_month.as_deref() == Some("2026-02")),
        "{nine:?}"
    );
    let msgs = app
        .store
        .messages_of(&Scope::National, "500000000009")
        .await
        .unwrap();
    assert_eq!(
        msgs.iter()
            .filter(|m| m.template == "termination")
            .map(|m| m.id.as_str())
            .collect::<Vec<_>>(),
        ["termination:500000000009:2026-02"]
    );
    let again = service::refresh_scores(&state, &actor, &updates, on)
        .await
        .unwrap();
    assert_eq!(
        (again.new_scores, again.moved, again.suspended),
        (0, 0, 0),
        "a refresh applied twice changes nothing"
    );
    assert_eq!(app.store.events_of("500000000001").await.unwrap().len(), 1);
}

/// A token for the administrator with these scopes.
async fn token(app: &App, admin: &Session, scopes: &str) -> String {
    let body = format!(r#"{{"name":"gateway","username":"administrator","scopes":"{scopes}"}}"#);
    let res = app
        .send(app.json_post("/api/v1/tokens", admin, &body))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The SMS gateway reports deliveries with a token limited to that: delivered, failed then
/// retried, the same report twice changing nothing, an unknown id a 404 problem.
#[tokio::test]
async fn the_gateway_reports_delivery_with_its_own_token() {
    use sanad_store::outbox::stamp;
    let app = app().await;
    let t0 =
        chrono::NaiveDateTime::parse_from_str("2026-11-20 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    for (id, h) in [("receipt:X", "500000000003"), ("receipt:Y", "500000000003")] {
        let row = sanad_store::MessageRow {
            id: id.into(),
            rsu_id: h.into(),
            channel: "sms".into(),
            recipient: "+212600000003".into(),
            language: "fr".into(),
            template: "receipt".into(),
            body: "Sanad : reçu".into(),
            status: "queued".into(),
            attempts: 0,
            next_attempt_at: Some(stamp(t0)),
            last_error: None,
            delivery_id: None,
            created_at: stamp(t0),
            sent_at: None,
            delivered_at: None,
        };
        app.store.enqueue(&row).await.unwrap();
    }
    app.store
        .claim_due(t0, t0 + chrono::TimeDelta::minutes(5), 10)
        .await
        .unwrap();
    app.store.mark_sent("receipt:X", "gw-1", t0).await.unwrap();
    app.store.mark_sent("receipt:Y", "gw-2", t0).await.unwrap();
    let admin = app.login("administrator", PASSWORD).await.unwrap();
    let gateway = token(&app, &admin, "notify:delivery").await;
    let other = token(&app, &admin, "users:admin").await;
    let report = |t: &str, body: &str| {
        Request::post("/api/v1/notify/delivery")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let delivered =
        r#"{"delivery_id":"gw-1","status":"delivered","at":"2026-11-20T09:01:00+01:00"}"#;
    assert_eq!(
        app.send(report(&other, delivered)).await.status,
        StatusCode::FORBIDDEN,
        "a token without the scope"
    );
    let res = app.send(report(&gateway, delivered)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let out: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(
        (
            out["message_id"].as_str(),
            out["status"].as_str(),
            out["changed"].as_bool()
        ),
        (Some("receipt:X"), Some("delivered"), Some(true))
    );
    let again: serde_json::Value =
        serde_json::from_str(&app.send(report(&gateway, delivered)).await.body).unwrap();
    assert_eq!(
        (again["status"].as_str(), again["changed"].as_bool()),
        (Some("delivered"), Some(false)),
        "the same report twice"
    );
    let failed = r#"{"delivery_id":"gw-2","status":"failed","at":"2026-11-20T09:02:00Z","error":"handset off"}"#;
    let out: serde_json::Value =
        serde_json::from_str(&app.send(report(&gateway, failed)).await.body).unwrap();
    assert_eq!(
        (out["status"].as_str(), out["changed"].as_bool()),
        (Some("failed"), Some(true)),
        "{out}"
    );
    assert!(
        out["next_attempt_at"].is_string(),
        "retried under the policy: {out}"
    );
    let unknown = app
        .send(report(
            &gateway,
            r#"{"delivery_id":"gw-9","status":"delivered","at":"2026-11-20T09:02:00Z"}"#,
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/problem+json")
    );
    let bad = app
        .send(report(
            &gateway,
            r#"{"delivery_id":"gw-1","status":"read","at":"2026-11-20T09:02:00Z"}"#,
        ))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stored = app
        .store
        .messages_of(&Scope::National, "500000000003")
        .await
        .unwrap();
    let x = stored.iter().find(|m| m.id == "receipt:X").unwrap();
    assert_eq!(
        (x.status.as_str(), x.delivered_at.as_deref()),
        ("delivered", Some("2026-11-20T08:01:00.000Z")),
        "stored in UTC"
    );
    let y = stored.iter().find(|m| m.id == "receipt:Y").unwrap();
    assert_eq!(
        (y.status.as_str(), y.last_error.as_deref()),
        ("failed", Some("delivery: handset off"))
    );
    let page = app
        .get(
            "/outbox",
            Some(&app.login("antenna_agent", PASSWORD).await.unwrap()),
        )
        .await
        .body;
    assert!(
        page.contains("Remis (1)") && page.contains("Remis :"),
        "the outbox counts and dates delivered messages"
    );
}

/// An agent splits a household from its page: the members leaving form the new household,
/// the old one loses them, an event on each; a refused split writes nothing.
#[tokio::test]
async fn a_household_is_split_from_its_page() {
    let app = app().await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    let old = sample(3, "04");
    let (child, kafala) = (
        old.members[2].idcs.to_string(),
        old.members[3].idcs.to_string(),
    );
    let page = app.get("/households/500000000003", Some(&agent)).await.body;
    assert!(
        page.contains("action=\"/households/500000000003/split\""),
        "the split form"
    );
    assert!(
        !app.get(
            "/households/500000000003",
            Some(&app.login("auditor", PASSWORD).await.unwrap())
        )
        .await
        .body
        .contains("/split\""),
        "not offered to a reader"
    );
    let form = |new: &str, leaving: &str| {
        format!(
            "leave={child}&relation.{child}=head&{leaving}new_rsu_id={new}&remaining_head=&effective=2026-11-01"
        )
    };
    // Refused: the new id exists (in another region, too), or it is not an RSU id: nothing written.
    let res = app
        .post(
            "/households/500000000003/split",
            &agent,
            &form("500000000001", ""),
            true,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(
        app.post(
            "/households/500000000003/split",
            &agent,
            &form("12", ""),
            true
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            "/households/500000000003/split",
            &agent,
            &form(
                "500000000777",
                "leave=1000000017&relation.1000000017=child&"
            ),
            true
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a member"
    );
    assert!(
        app.store
            .events_of("500000000003")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.store
            .household(&Scope::National, &old.rsu_id)
            .await
            .unwrap()
            .unwrap()
            .members
            .len(),
        4
    );
    // Another region's agent does not see the household.
    let agent01 = app.login("agent01", PASSWORD).await.unwrap();
    assert_eq!(
        app.post(
            "/households/500000000003/split",
            &agent01,
            &form("500000000777", ""),
            true
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    let res = app
        .post(
            "/households/500000000003/split",
            &agent,
            &form(
                "500000000777",
                &format!("leave={kafala}&relation.{kafala}=other&"),
            ),
            true,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(res.headers[header::LOCATION], "/households/500000000777");
    let new: serde_json::Value = serde_json::from_str(
        &app.get("/api/v1/households/500000000777", Some(&agent))
            .await
            .body,
    )
    .unwrap();
    let members: Vec<(&str, &str)> = new["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["first_name"].as_str().unwrap(),
                m["relation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [("Prenom3", "head"), ("Prenom4", "other")],
        "{new}"
    );
    let left = app
        .store
        .household(&Scope::National, &old.rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.members
            .iter()
            .map(|m| m.first_name.as_str())
            .collect::<Vec<_>>(),
        ["Prenom1", "M'barka \\ O''Brien"],
        "the old household lost them"
    );
    assert_eq!(
        app.store.events_of("500000000003").await.unwrap()[0].kind,
        "household_split"
    );
    assert_eq!(
        app.store.events_of("500000000777").await.unwrap()[0].kind,
        "household_formed"
    );
    let page = app.get("/households/500000000777", Some(&agent)).await.body;
    assert!(
        page.contains("Nouveau ménage issu d&#39;une séparation")
            || page.contains("Nouveau ménage issu d'une séparation"),
        "the event on the new household's page"
    );
    // Through the API: the head leaves and names the remaining head.
    let head = old.members[0].idcs.to_string();
    let spouse = old.members[1].idcs.to_string();
    let body = format!(
        r#"{{"effective":"2026-11-05","new_rsu_id":"500000000778","members":[{{"idcs":"{head}","relation":"head"}}],"remaining_head":"{spouse}"}}"#
    );
    let res = app
        .send(app.json_post("/api/v1/households/500000000003/split", &agent, &body))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let out: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(out["new_rsu_id"], "500000000778");
    let left = app
        .store
        .household(&Scope::National, &old.rsu_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (left.members.len(), left.members[0].relation),
        (1, sanad_domain::Relation::Head)
    );
    let log: serde_json::Value = serde_json::from_str(
        &app.get(
            "/api/v1/audit?entity=life_event",
            Some(&app.login("auditor", PASSWORD).await.unwrap()),
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(
        log["items"].as_array().unwrap().len(),
        4,
        "two splits, an event on each side, audited"
    );
}

/// Households `ns` in region 04, eligible, registered and approved for both aids by an agent.
async fn approved(app: &App, ns: std::ops::Range<u64>) -> Vec<sanad_domain::Household> {
    let eligible: Vec<_> = ns
        .map(|n| {
            sanad_store::conformance::with(&sample(n, "04"), |p| {
                p.members[1].checks = Default::default()
            })
        })
        .collect();
    app.store
        .upsert_households(&eligible, Write::Apply)
        .await
        .unwrap();
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    for h in &eligible {
        let body = format!(
            r#"{{"household_id":"{}","components":["child_allowance","flat_rate"]}}"#,
            h.rsu_id
        );
        let res = app
            .send(app.json_post("/api/v1/applications", &agent, &body))
            .await;
        let file: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        assert_eq!(
            app.post(
                &format!("/applications/{}/decide", file["receipt"].as_str().unwrap()),
                &agent,
                "decision=approve",
                true
            )
            .await
            .status,
            StatusCode::SEE_OTHER
        );
    }
    eligible
}

/// A household terminated by a declared event has its awards ended (the page says so, the
/// payroll stops paying it); one whose suspension notice ran out is ended by the payroll.
#[tokio::test]
async fn awards_end_on_termination() {
    let app = app().await;
    let eligible = approved(&app, 7..9).await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    // Household 7: both parents died in July (declared now): nobody to pay since, notice run out.
    let h7 = &eligible[0];
    let path = format!("/api/v1/households/{}/events", h7.rsu_id);
    for (i, day) in [(0, "2026-07-10"), (1, "2026-07-12")] {
        let body = format!(
            r#"{{"effective":"{day}","kind":{{"event":"death","person":"{}"}}}}"#,
            h7.members[i].idcs
        );
        let res = app.send(app.json_post(&path, &agent, &body)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        if i == 1 {
            assert_eq!(
                serde_json::from_str::<serde_json::Value>(&res.body).unwrap()["lifecycle"],
                "terminate",
                "{}",
                res.body
            );
        }
    }
    let ended: Vec<Option<String>> = app
        .store
        .awards_of(&h7.rsu_id.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.end_month)
        .collect();
    assert_eq!(
        ended,
        [Some("2026-07".to_owned()), Some("2026-07".to_owned())],
        "ended after the last payable month (July: both alive on the 1st)"
    );
    let page = app
        .get(&format!("/households/{}", h7.rsu_id), Some(&agent))
        .await
        .body;
    assert!(
        page.contains("aide terminée depuis"),
        "the household page shows the ended award"
    );
    let log: serde_json::Value = serde_json::from_str(
        &app.get(
            "/api/v1/audit?entity=award",
            Some(&app.login("auditor", PASSWORD).await.unwrap()),
        )
        .await
        .body,
    )
    .unwrap();
    assert_eq!(log["items"][0]["action"], "end");
    let terminations = async |app: &App, h: &str| -> Vec<(String, String)> {
        app.store
            .messages_of(&Scope::National, h)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.template == "termination")
            .map(|m| (m.id, m.body))
            .collect()
    };
    let told = terminations(&app, &h7.rsu_id.to_string()).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, format!("termination:{}:2026-07", h7.rsu_id));
    assert!(
        told[0].1.contains("Dernier mois couvert : 07/2026") && told[0].1.contains("recours"),
        "the notice says the last month and the right to appeal: {}",
        told[0].1
    );

    // Household 8: the RSU rescores it above the threshold from November (a registry update, no
    // event): suspended; in February its notice has run out and the payroll ends its award.
    let h8 = sanad_store::conformance::with(&eligible[1], |p| {
        p.scores.record(sanad_domain::ScoreRecord {
            value: sanad_domain::Score::parse("15.000000").unwrap(),
            computed_on: "2026-10-20".parse().unwrap(),
            valid_from: "2026-10-25".parse().unwrap(),
        });
    });
    app.store
        .upsert_households(std::slice::from_ref(&h8), Write::Apply)
        .await
        .unwrap();
    let officer = app.login("payment_officer", PASSWORD).await.unwrap();
    let id8 = h8.rsu_id.to_string();
    let running = async |app: &App| {
        app.store
            .awards_of(&id8)
            .await
            .unwrap()
            .iter()
            .all(|a| a.end_month.is_none())
    };
    assert_eq!(
        app.post("/payroll/2026-11/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let lines = sanad_store::PayrollStore::payroll_lines(&*app.store, "2026-11")
        .await
        .unwrap();
    assert!(
        !lines
            .iter()
            .any(|l| l.rsu_id == h7.rsu_id.to_string() && l.status == "pay"),
        "a terminated household is not paid"
    );
    assert!(running(&app).await, "within its notice, the award runs");
    assert_eq!(
        app.post("/payroll/2027-01/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        running(&app).await,
        "three months unpayable: still within the notice"
    );
    assert_eq!(
        app.post("/payroll/2027-02/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let ended: Vec<Option<String>> = app
        .store
        .awards_of(&h8.rsu_id.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.end_month)
        .collect();
    assert_eq!(
        ended,
        [Some("2026-10".to_owned()), Some("2026-10".to_owned())],
        "the notice ran out: ended before its first unpayable month"
    );
    let told = terminations(&app, &id8).await;
    assert_eq!(
        told.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        [format!("termination:{id8}:2026-10")],
        "the payroll that ends the award queues its notice"
    );
    assert_eq!(
        app.post("/payroll/2027-02/prepare", &officer, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        terminations(&app, &id8).await.len(),
        1,
        "preparing again tells nobody twice"
    );
}

// ---- pilot administration (issue 7: designs from the page, reassignment) ----

fn form(body: &str) -> String {
    format!(
        "body={}",
        sanad_web::pages::urlencode(body).replace('/', "%2F")
    )
}

const DESIGN_TOML: &str = "id = \"page-design\"\nseed = 7\nunit = \"rsu_id\"\nstrata = [\"province\"]\n\n[[arms]]\nname = \"control\"\nshare = 0.5\n\n[[arms]]\nname = \"treatment\"\nshare = 0.5\n";

#[tokio::test]
async fn an_analyst_registers_a_design_then_runs_its_assignment_once() {
    let app = app().await;
    seed_pilot(&app).await;
    let s = app.login("me_analyst", PASSWORD).await.unwrap();
    let page = app.get("/pilot/designs", Some(&s)).await.body;
    assert!(
        page.contains("action=\"/pilot/designs\"") && page.contains("name=\"body\""),
        "the analyst has the form"
    );
    assert!(
        page.contains("type=\"file\"") && page.contains("data-fill=\"design-body\""),
        "a file fills the box (read by /assets/sanad.js)"
    );
    let res = app
        .post("/pilot/designs", &s, &form(DESIGN_TOML), true)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to = res.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(to, "/pilot/designs?registered=page-design#registered");
    let (_, design) = service::pilot_admin::parse_design("d", DESIGN_TOML).unwrap();
    let page = app.get(&to, Some(&s)).await.body;
    assert!(
        page.contains("id=\"registered\"") && page.contains(&design.hash()),
        "the hash is shown after registration"
    );
    assert_eq!(
        app.store.designs().await.unwrap()[0].hash,
        design.hash(),
        "the store's hash is the design's own"
    );
    // Registered twice: refused, even with the same body; a bad file names its line and field.
    assert_eq!(
        app.post("/pilot/designs", &s, &form(DESIGN_TOML), true)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let bad = app
        .post(
            "/pilot/designs",
            &s,
            &form(
                &DESIGN_TOML
                    .replace("page-design", "bad")
                    .replace("share = 0.5\n\n[[arms]]", "share = 0.4\n\n[[arms]]"),
            ),
            true,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("arm shares sum to"), "{}", bad.body);
    let bad = app
        .post(
            "/pilot/designs",
            &s,
            &form(
                &DESIGN_TOML
                    .replace("page-design", "bad")
                    .replace("\"province\"", "\"douar\""),
            ),
            true,
        )
        .await;
    assert!(
        bad.status == StatusCode::UNPROCESSABLE_ENTITY
            && bad.body.contains("line 4")
            && bad.body.contains("douar"),
        "{}",
        bad.body
    );
    // The assignment button, then the counts by arm over the plan's five active households.
    assert!(
        app.get("/pilot/designs", Some(&s))
            .await
            .body
            .contains("action=\"/pilot/designs/page-design/assign\"")
    );
    assert_eq!(
        app.post("/pilot/designs/page-design/assign", &s, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let counts = app.store.assignment_counts("page-design").await.unwrap();
    assert_eq!(counts.iter().map(|c| c.1).sum::<i64>(), 5, "{counts:?}");
    let page = app.get("/pilot/designs", Some(&s)).await.body;
    assert!(
        !page.contains("action=\"/pilot/designs/page-design/assign\""),
        "no second draw offered"
    );
    assert_eq!(
        app.post("/pilot/designs/page-design/assign", &s, "", true)
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post("/pilot/designs/nope/assign", &s, "", true)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let log = app
        .store
        .audit_records(
            &sanad_store::AuditFilter {
                entity: Some("pilot_design".into()),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 2, "register and assign are audited");
    // Every other role: no form, and the writes are refused.
    for role in Role::ALL
        .into_iter()
        .filter(|r| !matches!(r, Role::MeAnalyst | Role::Administrator))
    {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        assert!(
            !app.get("/pilot/designs", Some(&s))
                .await
                .body
                .contains("action=\"/pilot/designs\""),
            "{role}"
        );
        assert_eq!(
            app.post(
                "/pilot/designs",
                &s,
                &form(&DESIGN_TOML.replace("page-design", role.as_str())),
                true
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
        assert_eq!(
            app.post("/pilot/designs/page-design/assign", &s, "", true)
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
    assert_eq!(app.store.designs().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_supervisor_moves_a_case_or_a_caseload_and_a_worker_cannot() {
    use sanad_store::pilot::CaseRow;
    let app = app().await;
    seed_pilot(&app).await;
    let mut colleague = service::new_user(
        "agent04b",
        "Agent 04 B",
        Role::AntennaAgent,
        Scope::Regions(vec![sanad_domain::RegionCode::parse("04").unwrap()]),
        "fr",
        "x",
    );
    colleague.password_hash = auth::hash_password(PASSWORD);
    app.store
        .create_user(&colleague, &sanad_store::Actor::new("test", "setup"))
        .await
        .unwrap();
    for h in ["500000000003", "500000000005", "500000000006"] {
        // The last case counts in a second antenna of the region.
        let antenna = if h.ends_with('6') { "04.441" } else { "04.421" };
        let case = CaseRow {
            rsu_id: h.into(),
            antenna: antenna.into(),
            worker: "antenna_agent".into(),
            opened_on: days(-10),
            closure: None,
            goals: "[]".into(),
            visits: vec![],
            referrals: vec![],
        };
        app.store
            .save_case(
                &case,
                "open",
                &sanad_store::Actor::new("antenna_agent", "t"),
            )
            .await
            .unwrap();
    }
    let worker_of = |h: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .open_case(&Scope::National, h)
                .await
                .unwrap()
                .unwrap()
                .worker
        }
    };
    // The worker has no form and is refused.
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    assert!(
        !app.get("/pilot/caseload", Some(&agent))
            .await
            .body
            .contains("/pilot/caseload/reassign")
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &agent,
            "household=500000000003&to=agent04b",
            true
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // The supervisor moves one case, then the rest of the caseload.
    let sup = app.login("antenna_supervisor", PASSWORD).await.unwrap();
    assert!(
        app.get("/pilot/caseload", Some(&sup))
            .await
            .body
            .contains("action=\"/pilot/caseload/reassign\"")
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=500000000003&from=antenna_agent&to=agent04b",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(worker_of("500000000003").await, "agent04b");
    assert_eq!(
        worker_of("500000000005").await,
        "antenna_agent",
        "only that case moved"
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=&from=antenna_agent&to=agent04b",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        (
            worker_of("500000000005").await,
            worker_of("500000000006").await
        ),
        ("agent04b".to_owned(), "agent04b".to_owned())
    );
    // Not to a worker of another antenna, an analyst, or someone unknown; not a case outside the scope.
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=500000000003&to=agent01",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=500000000003&to=me_analyst",
            true
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=500000000003&to=nobody",
            true
        )
        .await
        .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=500000000001&to=agent04b",
            true
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(worker_of("500000000003").await, "agent04b");
    // A caseload moves whole: a worker of antenna 04.421 only cannot take the 04.441 case, so none moves.
    let mut narrow = service::new_user(
        "agent0421",
        "Agent 04.421",
        Role::AntennaAgent,
        Scope::Antennas(vec!["04.421".into()]),
        "fr",
        "x",
    );
    narrow.password_hash = auth::hash_password(PASSWORD);
    app.store
        .create_user(&narrow, &sanad_store::Actor::new("test", "setup"))
        .await
        .unwrap();
    assert_eq!(
        app.post(
            "/pilot/caseload/reassign",
            &sup,
            "household=&from=agent04b&to=agent0421",
            true
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        (
            worker_of("500000000003").await,
            worker_of("500000000005").await
        ),
        ("agent04b".to_owned(), "agent04b".to_owned())
    );
    let log = app
        .store
        .audit_records(
            &sanad_store::AuditFilter {
                entity: Some("pilot_case".into()),
                ..Default::default()
            },
            None,
            20,
        )
        .await
        .unwrap();
    let moves: Vec<_> = log.iter().filter(|r| r.action == "reassign").collect();
    assert_eq!(moves.len(), 3, "each moved case is audited");
    assert!(moves.iter().all(|r| r.actor == "antenna_supervisor"));
    for role in Role::ALL
        .into_iter()
        .filter(|r| *r != Role::AntennaSupervisor)
    {
        let s = app.login(role.as_str(), PASSWORD).await.unwrap();
        assert_eq!(
            app.post(
                "/pilot/caseload/reassign",
                &s,
                "household=500000000003&to=antenna_agent",
                true
            )
            .await
            .status,
            StatusCode::FORBIDDEN,
            "{role}"
        );
    }
}

#[tokio::test]
async fn pilot_refusals_are_shown_in_the_users_language() {
    let app = app().await;
    seed_pilot(&app).await;
    let s = app.login("antenna_agent", PASSWORD).await.unwrap();
    assert_eq!(
        app.post("/pilot/cases/500000000003/open", &s, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let again = app
        .post("/pilot/cases/500000000003/open", &s, "", true)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("Ce ménage a déjà un dossier ouvert.")
            && !again.body.contains("already has an open case"),
        "{}",
        again.body
    );
    let not_asd = app
        .post(
            "/pilot/cases/500000000003/enrol",
            &s,
            "measure=disability-care",
            true,
        )
        .await;
    assert!(
        not_asd.body.contains("n&#39;est pas dans le groupe cible")
            || not_asd.body.contains("n'est pas dans le groupe cible"),
        "{}",
        not_asd.body
    );
    let blank = app
        .post("/pilot/cases/500000000003/close", &s, "reason=", true)
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blank
            .body
            .contains("Indiquez le motif de clôture du dossier."),
        "{}",
        blank.body
    );
    // In Arabic for a user who chose it; the API keeps the English detail and names the message.
    assert_eq!(
        app.post("/settings/language", &s, "lang=ar", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let ar = app
        .post("/pilot/cases/500000000003/open", &s, "", true)
        .await;
    assert!(
        ar.body.contains("لهذه الأسرة ملف مفتوح بالفعل."),
        "{}",
        ar.body
    );
}

#[tokio::test]
async fn indicators_show_aggregates_with_a_chart_and_a_csv_and_name_no_household() {
    use sanad_store::pilot::{CaseRow, ReferralRow, VisitRow};
    let app = app().await;
    seed_pilot(&app).await;
    let agent = app.login("antenna_agent", PASSWORD).await.unwrap();
    assert_eq!(
        app.post(
            "/pilot/cases/500000000005/enrol",
            &agent,
            "measure=disability-care",
            true
        )
        .await
        .status,
        StatusCode::SEE_OTHER
    );
    let visit = |date: String, attendance: &str| VisitRow {
        date,
        attendance: attendance.into(),
        notes: "n".into(),
        next_steps: String::new(),
        next_visit: None,
    };
    let referral = |id, status: &str| ReferralRow {
        id,
        service: "school".into(),
        detail: "École".into(),
        sent_on: days(-40),
        status: status.into(),
        status_on: Some(days(-30)),
        outcome: String::new(),
    };
    let today = chrono::Local::now().date_naive();
    let this_month = |d: i64| {
        let x = today - chrono::Duration::days(d);
        if x.format("%Y-%m").to_string() == today.format("%Y-%m").to_string() {
            x
        } else {
            today
        }
    };
    let case = CaseRow {
        rsu_id: "500000000005".into(),
        antenna: "04.421".into(),
        worker: "antenna_agent".into(),
        opened_on: days(-70),
        closure: None,
        goals: "[]".into(),
        visits: vec![
            visit(this_month(1).to_string(), "present"),
            visit(this_month(0).to_string(), "absent"),
        ],
        referrals: vec![referral(1, "completed"), referral(2, "sent")],
    };
    app.store
        .save_case(
            &case,
            "open",
            &sanad_store::Actor::new("antenna_agent", "t"),
        )
        .await
        .unwrap();
    let stale = CaseRow {
        rsu_id: "500000000006".into(),
        visits: vec![],
        referrals: vec![],
        ..case.clone()
    };
    app.store
        .save_case(
            &stale,
            "open",
            &sanad_store::Actor::new("antenna_agent", "t"),
        )
        .await
        .unwrap();

    let analyst = app.login("me_analyst", PASSWORD).await.unwrap();
    let page = app.get("/pilot/indicators", Some(&analyst)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<svg class=\"chart places\""),
        "a server-rendered chart"
    );
    assert!(
        page.body.contains("type=\"month\""),
        "the visits' month can be chosen"
    );
    // A month without visits: the cases open then (none, a month before they opened) give nothing to measure.
    let before = app
        .get("/pilot/indicators.csv?month=2020-01", Some(&analyst))
        .await
        .body;
    assert!(!before.contains("visits_per_case"), "{before}");
    assert!(
        !page.body.contains("50000000000"),
        "no household is named: {}",
        page.body
    );
    // disability care: one place of one, full.
    assert!(page.body.contains("1 / 1 (100 %)"), "{}", page.body);
    // two visits over two cases open this month; one referral completed of two.
    assert!(
        page.body.contains("2 / 2 (100 %)") && page.body.contains("1 / 2 (50 %)"),
        "{}",
        page.body
    );
    let csv = app.get("/pilot/indicators.csv", Some(&analyst)).await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        csv.body
            .starts_with("indicator,antenna,key,numerator,denominator\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body
            .contains("enrolment_rate,04.421,disability-care,1,1\n")
            && csv.body.contains("referral_completion,04.421,school,1,2\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains("alerts_open,04.421,visit_overdue,1,1\n"),
        "the never-visited case is overdue: {}",
        csv.body
    );
    let api = app.get("/api/v1/pilot/indicators", Some(&analyst)).await;
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(
        json["referrals"][0]["completion"],
        serde_json::json!({"num": 1, "den": 2})
    );
    assert_eq!(
        app.get("/pilot/indicators?month=2026-13", Some(&analyst))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // An antenna agent of region 01 sees none of region 04's numbers.
    let other = app.login("agent01", PASSWORD).await.unwrap();
    let theirs = app.get("/pilot/indicators.csv", Some(&other)).await.body;
    assert!(!theirs.contains("04.421"), "{theirs}");
}

// ---- pilot outcomes import from the page (issue 7) ----

fn enc(s: &str) -> String {
    sanad_web::pages::urlencode(s).replace('/', "%2F")
}

#[tokio::test]
async fn an_analyst_imports_survey_rounds_and_outcome_lists_from_the_page() {
    let app = app().await;
    let s = app.login("me_analyst", PASSWORD).await.unwrap();
    let page = app.get("/pilot/outcomes", Some(&s)).await.body;
    for form in ["/pilot/outcomes/survey", "/pilot/outcomes/lists"] {
        assert!(page.contains(&format!("action=\"{form}\"")), "{form}");
    }
    assert!(
        page.contains("data-fill=\"survey-body\"") && page.contains("data-name=\"survey-name\""),
        "a chosen file fills the box and its name"
    );
    let codebook = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../evaluation/examples/survey_codebook.csv"),
    )
    .unwrap();
    let header = "unit_id,hh_size,head_female,area,n_children,enrol,zscore,income,interview_date\n";
    let survey = |rows: &str| {
        format!(
            "round=baseline&codebook_name=codebook.csv&codebook={}&survey_name=bl.csv&survey={}",
            enc(&codebook),
            enc(&format!("{header}{rows}"))
        )
    };
    // Two bad lines: both listed on the page with their line and column, the text kept, nothing stored.
    let bad = app
        .post(
            "/pilot/outcomes/survey",
            &s,
            &survey("500000000001,40,0,1,2,0.5,-1.2,1850,2025-02-03\n500000000003,4,1,7,1,1,-0.4,900,2025-02-03\n"),
            true,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("id=\"refused\"")
            && bad.body.contains("bl.csv line 2 column hh_size")
            && bad.body.contains("bl.csv line 3 column area"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains("500000000003,4,1,7"),
        "the pasted text comes back to be fixed"
    );
    assert!(app.store.outcome_rounds().await.unwrap().is_empty());
    let unknown = app
        .post(
            "/pilot/outcomes/survey",
            &s,
            &survey("500000000009,4,1,1,1,1,-0.4,900,2025-02-03\n"),
            true,
        )
        .await;
    assert!(
        unknown.status == StatusCode::UNPROCESSABLE_ENTITY
            && unknown.body.contains("is not a household of the registry"),
        "{}",
        unknown.body
    );
    // A good round: redirected to the page with its summary; stored and audited.
    let res = app
        .post(
            "/pilot/outcomes/survey",
            &s,
            &survey("500000000001,5,0,1,2,0.5,-1.21,1850,2025-02-03\n500000000003,4,1,2,1,1,-0.40,-98,2025-02-04\n"),
            true,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to = res.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/pilot/outcomes?round=baseline&households=2&cells=16&sha256="),
        "{to}"
    );
    let page = app.get(&to, Some(&s)).await.body;
    assert!(
        page.contains("id=\"imported-now\"") && page.contains("bl.csv"),
        "the summary and the imported round"
    );
    assert_eq!(
        app.store.outcomes(&Scope::National).await.unwrap().len(),
        16
    );

    // Outcome lists: FILE:LINE: FIELD: REASON for each rejected row; a verification list is
    // not imported here; a good list replaces the earlier one.
    let a = sanad_domain::Idcs::from_body(101).to_string();
    let list = |text: &str| format!("list_name=visits.csv&list={}", enc(text));
    let visits = format!(
        "# list=health_visits as_of=2027-06-30 source=MS-SIS\nidcs,visit_date,centre,visit_type\n{a},2027-01-20,ESSP-03,consultation\n{a},2027-07-20,ESSP-03,consultation\n{a},2027-01-21,ESSP-03,dentist\n"
    );
    let bad = app
        .post("/pilot/outcomes/lists", &s, &list(&visits), true)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body
            .contains("visits.csv:4: visit_date: 2027-07-20 is after")
            && bad.body.contains("visits.csv:5: visit_type:"),
        "{}",
        bad.body
    );
    assert!(
        app.store
            .list_meta("health_visits")
            .await
            .unwrap()
            .is_none()
    );
    let deaths =
        format!("# list=deaths as_of=2026-10-01 source=RNP\nidcs,death_date\n{a},2026-01-01\n");
    let refused = app
        .post("/pilot/outcomes/lists", &s, &list(&deaths), true)
        .await;
    assert!(
        refused.status == StatusCode::UNPROCESSABLE_ENTITY
            && refused.body.contains("verification list"),
        "{}",
        refused.body
    );
    assert!(app.store.list_meta("deaths").await.unwrap().is_none());
    let good: String = visits.lines().take(3).map(|l| format!("{l}\n")).collect();
    let res = app
        .post("/pilot/outcomes/lists", &s, &list(&good), true)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let to = res.headers[header::LOCATION].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        "/pilot/outcomes?list=health_visits&as_of=2027-06-30&source=MS-SIS&rows=1#imported-now"
    );
    assert!(app.get(&to, Some(&s)).await.body.contains("health_visits"));
    assert_eq!(
        app.store
            .list_rows("health_visits", &[a])
            .await
            .unwrap()
            .len(),
        1
    );
    let log = app
        .store
        .audit_records(&sanad_store::AuditFilter::default(), None, 50)
        .await
        .unwrap();
    let actions: Vec<(String, String)> = log
        .iter()
        .filter(|r| r.actor == "me_analyst")
        .map(|r| (r.action.clone(), r.entity.clone()))
        .collect();
    assert!(
        actions.contains(&("import".into(), "pilot_outcomes".into()))
            && actions.contains(&("import".into(), "cross_check_list".into())),
        "{actions:?}"
    );
    // Without the token, nothing happens.
    let res = app
        .post("/pilot/outcomes/lists", &s, &list(&good), false)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

// ---- the report of a registered design on the pilot's own data (issue 7) ----

#[tokio::test]
async fn a_design_is_reported_on_its_own_assignment_and_outcomes() {
    let app = app().await;
    seed_pilot(&app).await;
    let s = app.login("me_analyst", PASSWORD).await.unwrap();
    assert_eq!(
        app.post("/pilot/designs", &s, &form(DESIGN_TOML), true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.post("/pilot/designs/page-design/assign", &s, "", true)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // Before any outcome: refused with the reason.
    let early = app.get("/pilot/designs/page-design/report", Some(&s)).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    let units = app
        .store
        .assignments(&Scope::National, "page-design")
        .await
        .unwrap();
    // Take-up: the treatment households but one enrolled in a measure.
    let measure = sanad_pilot::Catalogue::shipped().measures()[0]
        .id
        .to_string();
    let treated: Vec<_> = units.iter().filter(|u| u.arm == "treatment").collect();
    for u in &treated[1..] {
        let antenna = if u.unit.ends_with('1') || u.unit.ends_with('2') {
            "01.511"
        } else {
            "04.421"
        };
        let row = sanad_store::pilot::EnrolmentRow {
            rsu_id: u.unit.clone(),
            measure_id: measure.clone(),
            antenna: antenna.into(),
            enrolled_on: "2026-11-01".into(),
            exit: None,
        };
        app.store
            .enrol(&row, 100, &sanad_store::Actor::new("test", "setup"))
            .await
            .unwrap();
    }
    let codebook = "variable,label_fr,label_ar,label_en,type,allowed,missing_codes\nincome,Revenu,الدخل,Income,numeric,0..,-99\n";
    let mut rounds = [
        String::from("unit_id,income\n"),
        String::from("unit_id,income\n"),
    ];
    for (i, u) in units.iter().enumerate() {
        let b = 1000 + 137 * i as i64 % 400;
        let effect = if u.arm == "treatment" { 300 } else { 0 };
        rounds[0].push_str(&format!("{},{b}\n", u.unit));
        rounds[1].push_str(&format!(
            "{},{}\n",
            u.unit,
            b + effect + 17 * (i as i64 % 3)
        ));
    }
    for (round, csv) in ["baseline", "followup"].iter().zip(&rounds) {
        let body = format!(
            "round={round}&codebook_name=cb.csv&codebook={}&survey_name={round}.csv&survey={}",
            enc(codebook),
            enc(csv)
        );
        let res = app.post("/pilot/outcomes/survey", &s, &body, true).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    }
    let design = app.store.designs().await.unwrap().remove(0);
    let page = app.get("/pilot/designs", Some(&s)).await.body;
    assert!(page.contains("href=\"/pilot/designs/page-design/report\""));
    let res = app.get("/pilot/designs/page-design/report", Some(&s)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(
        res.body.contains("income") && res.body.contains(&design.hash),
        "the outcome's estimate and the pre-registered hash"
    );
    assert!(
        !res.body.contains("<td>–</td><td>–</td><td>–</td>"),
        "a LATE for each outcome: enrolment in a measure is the take-up"
    );
    assert!(
        !res.body.contains("500000000001") && !res.body.contains("500000000003"),
        "no household is named"
    );
    let file = app
        .get("/pilot/designs/page-design/report.html", Some(&s))
        .await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
            && file.body.starts_with("<!DOCTYPE html>"),
        "{}",
        &file.body[..file.body.len().min(200)]
    );
    // Only the roles that manage designs: the others are refused both.
    for role in Role::ALL {
        let other = app.login(role.as_str(), PASSWORD).await.unwrap();
        for uri in [
            "/pilot/designs/page-design/report",
            "/pilot/designs/page-design/report.html",
        ] {
            let want = if matches!(role, Role::MeAnalyst | Role::Administrator) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(
                app.get(uri, Some(&other)).await.status,
                want,
                "{role} {uri}"
            );
        }
    }
    assert_eq!(
        app.get("/pilot/designs/nope/report", Some(&s)).await.status,
        StatusCode::NOT_FOUND
    );
}

/// A batch taken part by part is one transaction: a refusal in its last part, a household met
/// again after its first part, saves nothing; the same batch without it is taken whole, with
/// the decisions and receipts it gets in a single part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_taken_in_parts_is_all_or_nothing() {
    let on: chrono::NaiveDate = TODAY.parse().unwrap();
    let households: Vec<_> = (20..25).map(|n| sample(n, "04")).collect();
    let agent = sanad_web::auth::Principal {
        username: "antenna_agent".into(),
        display_name: "Agent".into(),
        role: Role::AntennaAgent,
        scope: Scope::Regions(vec![sanad_domain::RegionCode::parse("04").unwrap()]),
        locale: sanad_web::i18n::Locale::Fr,
        via: sanad_web::auth::Via::Token {
            id: "test".into(),
            scopes: vec!["households:read".into(), "applications:write".into()],
        },
    };
    let form = |h: &sanad_domain::Household| service::ApplicationForm {
        household_id: h.rsu_id.to_string(),
        components: vec![sanad_applications::Requested::FlatRate],
        channel: None,
        language: None,
    };
    let req = sanad_web::RequestId("batch".into());
    let mut taken = Vec::new();
    for part in [2, 1000] {
        let app = app().await;
        app.store
            .upsert_households(&households, Write::Apply)
            .await
            .unwrap();
        let state = AppState::new(app.store.clone(), SecurityConfig::default())
            .with_today(on)
            .with_intake_part(part);
        let take = |forms: Vec<service::ApplicationForm>| {
            let (state, agent, req) = (&state, &agent, &req);
            async move {
                let bulk = sanad_applications::Channel::Bulk;
                service::submit_applications(state, agent, req, &forms, bulk, on).await
            }
        };
        let mut again: Vec<_> = households.iter().map(form).collect();
        again.push(form(&households[0]));
        let err = take(again).await.unwrap_err().to_string();
        assert!(err.starts_with("application 6: "), "part {part}: {err}");
        for h in &households {
            let id = h.rsu_id.to_string();
            assert!(app.store.applications_of(&id).await.unwrap().is_empty());
            let queued = app.store.messages_of(&Scope::National, &id).await.unwrap();
            assert!(queued.is_empty(), "part {part}: {queued:?}");
        }
        let files = take(households.iter().map(form).collect()).await.unwrap();
        for (f, h) in files.iter().zip(&households) {
            let id = h.rsu_id.to_string();
            let stored = app.store.applications_of(&id).await.unwrap();
            assert_eq!(stored[0].receipt, f.receipt, "part {part}");
            let queued = app.store.messages_of(&Scope::National, &id).await.unwrap();
            assert!(
                queued
                    .iter()
                    .any(|m| m.id == format!("receipt:{}", f.receipt)),
                "part {part}: {queued:?}"
            );
        }
        taken.push(
            files
                .iter()
                .map(|f| (f.receipt.clone(), service::wire_name(&f.status)))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(taken[0], taken[1]);
    assert_eq!(taken[0].len(), 5);
}
