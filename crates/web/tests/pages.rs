//! The status page and its JSON counterpart over a real (SQLite) store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sanad_store::conformance::sample;
use sanad_store::{RegistryStore, Write};
use sanad_web::{router, AppState};
use tower::ServiceExt;

async fn get(app: axum::Router, uri: &str) -> (StatusCode, String) {
    let res = app.oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn home_and_api_show_the_registry_size() {
    let dir = tempfile::tempdir().unwrap();
    let store = sanad_store_sqlite::SqliteStore::open(&dir.path().join("w.db").display().to_string()).await.unwrap();
    store.upsert_households(&[sample(1, "01"), sample(2, "01"), sample(3, "04")], Write::Apply).await.unwrap();
    let app = router(AppState { store: Arc::new(store) });

    let (status, html) = get(app.clone(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Tanger-Tétouan-Al Hoceima") && html.contains("Rabat-Salé-Kénitra"));
    assert!(html.contains("<b>3</b> ménages") && html.contains("<b>12</b> personnes"), "{html}");
    assert!(!html.contains("Prenom1"), "no personal data before authentication");

    let (status, json) = get(app.clone(), "/api/v1/registry/regions").await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["region"], "01");
    assert_eq!(v[0]["households"], 2);
    assert_eq!(v[1]["persons"], 4);

    assert_eq!(get(app, "/health").await, (StatusCode::OK, "ok".to_string()));
}
