//! Replicated pools (Cognito Multi-Region Replication) and key fetches that fail over across
//! locations: several real key servers on 127.0.0.1, one per region, serving the same keys.

mod common;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use axum_cognito::{
    CognitoVerifier, ConfigError, ErrorKind, KeyStoreStatus, UserPool,
    test_util::{JwksFault, TestIssuer},
};
use common::{kind, pool_status, start_server};

const FETCH_TIMEOUT: Duration = Duration::from_secs(2);

/// A primary region (the pool id's, us-east-1) and a replica in us-west-2, each its own server.
async fn primary_and_replica() -> (TestIssuer, TestIssuer) {
    let primary = TestIssuer::start().await;
    let replica = primary.replica("us-west-2");
    (primary, replica)
}

/// A verifier of the pool replicated to `us-west-2`, fetching from both servers in that order.
async fn replicated_verifier(primary: &TestIssuer, replica: &TestIssuer) -> CognitoVerifier {
    let pool = UserPool::new(primary.pool_id())
        .client_id(primary.client_id())
        .replica_regions(["us-west-2"])
        .jwks_urls([primary.jwks_url(), replica.jwks_url()]);
    CognitoVerifier::builder()
        .user_pool(pool)
        .any_token_use()
        .fetch_timeout(FETCH_TIMEOUT)
        .build()
        .await
        .expect("verifier")
}

/// Which location serves the current set, by URL.
fn serving(status: &KeyStoreStatus) -> Vec<&str> {
    status
        .locations
        .iter()
        .filter(|l| l.serving)
        .map(|l| l.url.as_str())
        .collect()
}

#[tokio::test]
async fn a_replica_regions_token_is_accepted_and_an_unlisted_regions_refused() {
    let (primary, replica) = primary_and_replica().await;
    let unlisted = primary.replica("eu-west-1");
    let verifier = replicated_verifier(&primary, &replica).await;

    assert!(replica.issuer().contains("cognito-idp.us-west-2."));
    assert!(
        verifier
            .verify(&replica.access_token().sign())
            .await
            .is_ok()
    );
    assert!(verifier.verify(&replica.id_token().sign()).await.is_ok());
    assert!(
        verifier
            .verify(&primary.access_token().sign())
            .await
            .is_ok()
    );
    let updated = primary
        .access_token()
        .issuer(&primary.updated_issuer())
        .sign();
    assert!(
        verifier.verify(&updated).await.is_ok(),
        "the updated issuer form of the primary"
    );

    // Another region of the same pool, signed with the pool's own key: not a listed region.
    let foreign = unlisted.access_token().sign();
    assert_eq!(
        kind(verifier.verify(&foreign).await),
        ErrorKind::InvalidIssuer
    );
    // The updated form names the primary region only.
    let updated_replica = replica
        .access_token()
        .issuer(&format!(
            "https://issuer-cognito-idp.us-west-2.amazonaws.com/{}",
            replica.pool_id()
        ))
        .sign();
    assert_eq!(
        kind(verifier.verify(&updated_replica).await),
        ErrorKind::InvalidIssuer
    );
    assert_eq!(
        unlisted.jwks_requests(),
        0,
        "an unlisted region is never fetched from"
    );

    // Without replica regions, a replica's token is refused.
    let plain = primary.verifier_builder().build().await.unwrap();
    assert_eq!(
        kind(plain.verify(&replica.access_token().sign()).await),
        ErrorKind::InvalidIssuer
    );
}

#[tokio::test]
async fn by_default_every_region_is_a_location_of_its_cognito_endpoint() {
    let pool = UserPool::new("eu-west-1_AbC123").replica_regions(["eu-central-1"]);
    assert_eq!(
        pool.jwks_locations(),
        [
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json",
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json",
        ]
    );
    assert!(
        pool.jwks_locations()
            .iter()
            .all(|l| !l.contains("issuer-cognito-idp")),
        "nothing is fetched from the updated-issuer host"
    );
    for bad in ["EU-WEST-2", "eu-west-1", "eu west", ""] {
        let error = CognitoVerifier::builder()
            .user_pool(
                UserPool::new("eu-west-1_AbC123")
                    .any_client()
                    .replica_regions([bad]),
            )
            .any_token_use()
            .build_lazy()
            .unwrap_err();
        assert!(
            matches!(&error, ConfigError::InvalidReplicaRegion { region, .. } if region == bad),
            "{bad:?}: {error}"
        );
    }
}

/// The primary location refuses connections, hangs, or answers 500 while the pool rotates its
/// key: the new key is learned from the replica within one fetch timeout.
#[tokio::test]
async fn a_rotation_during_a_primary_outage_is_learned_from_the_replica() {
    for outage in ["refused", "hang", "500"] {
        let (primary, replica) = primary_and_replica().await;
        let verifier = replicated_verifier(&primary, &replica).await;
        match outage {
            "refused" => primary.stop().await,
            "hang" => primary.set_fault(Some(JwksFault::Hang)),
            _ => primary.set_fault(Some(JwksFault::Status(500))),
        }
        let new_kid = primary.rotate();
        let token = primary.access_token().sign();
        let started = Instant::now();
        let result = verifier.verify_access(&token).await;
        let took = started.elapsed();
        assert!(result.is_ok(), "{outage}: {result:?}");
        assert!(took < FETCH_TIMEOUT, "{outage}: took {took:?}");

        let status = pool_status(&verifier);
        assert!(status.key_ids.contains(&new_kid), "{outage}");
        assert_eq!(serving(&status), [replica.jwks_url()], "{outage}");
        assert!(
            status.locations[0].last_error.is_some(),
            "{outage}: the primary's error shows"
        );
        assert!(status.locations[1].last_error.is_none(), "{outage}");
        assert_eq!(
            status.jwks_url.as_deref(),
            Some(replica.jwks_url().as_str()),
            "{outage}"
        );
        assert_eq!(
            status.consecutive_failures, 0,
            "{outage}: a set from any location is a success"
        );
    }
}

/// Every location down: the refresh fails within one fetch timeout, and the last good keys
/// keep the service up.
#[tokio::test]
async fn every_location_down_fails_within_one_timeout_and_keeps_the_keys() {
    let (primary, replica) = primary_and_replica().await;
    let verifier = replicated_verifier(&primary, &replica).await;
    let token = primary.access_token().sign();
    primary.set_fault(Some(JwksFault::Hang));
    replica.set_fault(Some(JwksFault::Hang));
    let started = Instant::now();
    assert_eq!(
        verifier.refresh().await.unwrap_err().kind(),
        ErrorKind::KeysUnavailable
    );
    assert!(started.elapsed() < FETCH_TIMEOUT + Duration::from_millis(500));
    assert!(verifier.verify_access(&token).await.is_ok());
    let status = pool_status(&verifier);
    assert!(status.locations.iter().all(|l| l.last_error.is_some()));
    assert_eq!(status.consecutive_failures, 1);
}

/// The location that answered last is asked first: after a failover the replica stays first
/// when the primary recovers, and the primary serves again once the replica fails. An `ETag` is
/// sent only to the location whose set is current.
#[tokio::test]
async fn the_location_that_answered_last_is_asked_first() {
    let (primary, replica) = primary_and_replica().await;
    let verifier = replicated_verifier(&primary, &replica).await;
    assert_eq!(serving(&pool_status(&verifier)), [primary.jwks_url()]);

    primary.set_fault(Some(JwksFault::Status(503)));
    verifier.refresh().await.unwrap();
    assert_eq!(serving(&pool_status(&verifier)), [replica.jwks_url()]);
    assert_eq!(
        replica.not_modified_responses(),
        0,
        "no ETag of the primary's sent to the replica"
    );

    primary.set_fault(None);
    let (primary_before, replica_before) = (primary.jwks_requests(), replica.jwks_requests());
    verifier.refresh().await.unwrap();
    assert_eq!(
        primary.jwks_requests(),
        primary_before,
        "the recovered primary is not asked first"
    );
    assert_eq!(replica.jwks_requests(), replica_before + 1);
    assert_eq!(
        replica.not_modified_responses(),
        1,
        "the serving location gets its ETag back"
    );

    replica.stop().await;
    verifier.refresh().await.unwrap();
    let status = pool_status(&verifier);
    assert_eq!(serving(&status), [primary.jwks_url()]);
    assert!(status.locations[1].last_error.is_some());
}

/// A location that serves a different set is not mixed in: the set in use is always exactly one
/// location's. Which set is taken never depends on a token's `kid`: an unknown `kid` asks the
/// primary first, and a lagging location that still lists a key the pool removed is never
/// chosen for holding it.
#[tokio::test]
async fn a_location_serving_a_different_set_is_never_mixed_in_nor_chosen_by_a_kid() {
    let primary = TestIssuer::start().await;
    // Same pool and region, other keys: a location that lags behind, or is misconfigured.
    let other = TestIssuer::start_with(primary.pool_id(), primary.client_id()).await;
    let pool = UserPool::new(primary.pool_id())
        .client_id(primary.client_id())
        .jwks_urls([primary.jwks_url(), other.jwks_url()]);
    let verifier = CognitoVerifier::builder()
        .user_pool(pool)
        .any_token_use()
        .fetch_timeout(FETCH_TIMEOUT)
        .unknown_kid_cooldown(Duration::from_nanos(1))
        .build()
        .await
        .unwrap();
    let kids =
        |v: &CognitoVerifier| -> HashSet<String> { pool_status(v).key_ids.into_iter().collect() };
    let of = |i: &TestIssuer| -> HashSet<String> { i.published_kids().into_iter().collect() };
    assert_eq!(kids(&verifier), of(&primary));

    // The pool removes a key; the lagging location still lists it. A token of the removed key
    // makes the verifier refetch, from the primary only: the key stays untrusted.
    let removed = primary.signing_key();
    let old_token = primary.access_token().sign();
    primary.rotate();
    primary.remove_key(removed.kid());
    verifier.refresh().await.unwrap();
    other.publish(removed.clone());
    let other_before = other.jwks_requests();
    assert_eq!(
        kind(verifier.verify_access(&old_token).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(
        kind(verifier.verify_access(&old_token).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(
        other.jwks_requests(),
        other_before,
        "a kid never sends the fetch elsewhere"
    );
    assert_eq!(kids(&verifier), of(&primary));

    // The primary fails: the other set replaces the primary's whole (a failure, not a token,
    // chose it).
    primary.set_fault(Some(JwksFault::Status(500)));
    verifier.refresh().await.unwrap();
    assert_eq!(
        kids(&verifier),
        of(&other),
        "one location's set, not a union"
    );
    assert_eq!(serving(&pool_status(&verifier)), [other.jwks_url()]);

    // The primary is back; a token of its current key is unknown to the set in use. The
    // refetch asks the primary first, whose set is taken whole, and it is asked first again.
    primary.set_fault(None);
    let token = primary.access_token().sign();
    assert!(verifier.verify_access(&token).await.is_ok());
    assert_eq!(kids(&verifier), of(&primary));
    assert_eq!(serving(&pool_status(&verifier)), [primary.jwks_url()]);

    // A kid that no location has: the primary's set stays, the token is refused.
    let stranger = TestIssuer::start_with(primary.pool_id(), primary.client_id()).await;
    let token = stranger.access_token().sign();
    assert_eq!(
        kind(verifier.verify_access(&token).await),
        ErrorKind::UnknownKeyId
    );
    assert_eq!(kids(&verifier), of(&primary));
}

/// A key server that serves one pool's keys under `/{region}/{pool}/.well-known/jwks.json`,
/// each region able to fail on its own: what `{region}` in `COGNITO_JWKS_URL` points at.
async fn regional_key_server(issuer: &TestIssuer) -> (String, Arc<Mutex<HashSet<String>>>) {
    #[derive(Clone)]
    struct Regions {
        issuer: TestIssuer,
        down: Arc<Mutex<HashSet<String>>>,
    }
    async fn serve(
        State(regions): State<Regions>,
        Path((region, pool)): Path<(String, String)>,
    ) -> Response {
        if regions.down.lock().unwrap().contains(&region) || pool != regions.issuer.pool_id() {
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        (
            [("content-type", "application/json")],
            regions.issuer.jwks_json(),
        )
            .into_response()
    }
    let down = Arc::new(Mutex::new(HashSet::new()));
    let app = Router::new()
        .route("/{region}/{pool}/.well-known/jwks.json", get(serve))
        .with_state(Regions {
            issuer: issuer.clone(),
            down: down.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (
        format!("http://{addr}/{{region}}/{{pool}}/.well-known/jwks.json"),
        down,
    )
}

/// The server example: `COGNITO_REPLICA_REGIONS` and `{region}` in `COGNITO_JWKS_URL`; a
/// replica's token accepted; the primary region down at start; `/healthz` per location.
#[tokio::test]
async fn the_server_example_takes_replica_regions_and_shows_each_location() {
    let primary = TestIssuer::start().await;
    let replica = primary.replica("us-west-2");
    let (template, down) = regional_key_server(&primary).await;
    down.lock().unwrap().insert("us-east-1".to_owned());
    let (mut server, addr) = start_server(&[
        ("COGNITO_USER_POOL_ID", primary.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", primary.client_id().to_owned()),
        (
            "COGNITO_REPLICA_REGIONS",
            "us-west-2, eu-central-1".to_owned(),
        ),
        ("COGNITO_JWKS_URL", template),
    ])
    .await
    .expect("the server starts from the replica's keys");
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = async |path: &str, token: &str| {
        client
            .get(format!("http://{addr}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        get("/access", &replica.access_token().sign())
            .await
            .status(),
        200
    );
    assert_eq!(
        get("/access", &primary.access_token().sign())
            .await
            .status(),
        200
    );
    let unlisted = primary.replica("ap-south-1").access_token().sign();
    assert_eq!(get("/access", &unlisted).await.status(), 401);

    let admin = primary.access_token().groups(["admins"]).sign();
    let health: serde_json::Value = get("/healthz/detail", &admin).await.json().await.unwrap();
    let locations = health["pools"][0]["locations"].as_array().unwrap().clone();
    let urls: Vec<&str> = locations
        .iter()
        .map(|l| l["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls.len(), 3);
    assert!(
        urls[0].contains("/us-east-1/")
            && urls[1].contains("/us-west-2/")
            && urls[2].contains("/eu-central-1/"),
        "{urls:?}"
    );
    assert_eq!(locations[0]["serving"], false);
    assert!(locations[0]["last_error"].as_str().unwrap().contains("503"));
    assert_eq!(locations[1]["serving"], true);
    server.kill().await.unwrap();

    // A malformed region is refused, naming the variable.
    let error = start_server(&[
        ("COGNITO_USER_POOL_ID", primary.pool_id().to_owned()),
        ("COGNITO_CLIENT_IDS", primary.client_id().to_owned()),
        (
            "COGNITO_REPLICA_REGIONS",
            "us-west-2,Not A Region".to_owned(),
        ),
    ])
    .await
    .expect_err("refused");
    assert!(
        error.contains("exit Some(2)") && error.contains("COGNITO_REPLICA_REGIONS"),
        "{error}"
    );
}
