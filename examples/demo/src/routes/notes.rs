//! `/notes`: the signed-in user's notes, read and written through [`Db`], a transaction
//! as the user from the cookie session. Row-level security decides what it sees.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use supabase_ssr_axum::{ApiError, MaybeVerified, Verified};
use supabase_ssr_postgres::axum::{Db, database_error};

use super::{pairs, see_other};
use crate::notes::{self, Note, check_body};
use crate::state::Shared;
use crate::views::{self, Ctx, NotesView};

/// `GET /notes`: the list and the form. Signed out, `Verified` sends to sign-in.
pub(crate) async fn page(
    State(app): State<Shared>,
    Verified(claims): Verified,
    db: Result<Db, ApiError>,
) -> Response {
    let ctx = Ctx::new(&app, claims.email.as_deref());
    let mut db = match db {
        Ok(db) => db,
        Err(e) => return failure(&ctx, &e),
    };
    match notes::list(&mut db).await {
        Ok(list) => views::notes(&ctx, &NotesView::new(&list)).into_response(),
        Err(e) => failure(&ctx, &database_error(e)),
    }
}

/// `POST /notes` (`body`): adds a note, then `303` back to the list; a refused text
/// re-renders the form with the reason.
pub(crate) async fn submit(
    State(app): State<Shared>,
    Verified(claims): Verified,
    db: Result<Db, ApiError>,
    form: Bytes,
) -> Response {
    let ctx = Ctx::new(&app, claims.email.as_deref());
    let mut db = match db {
        Ok(db) => db,
        Err(e) => return failure(&ctx, &e),
    };
    let form = pairs(&form);
    let draft = form.get("body").map(String::as_str).unwrap_or_default();
    let reason = match check_body(draft) {
        Ok(body) => {
            return match notes::insert(&mut db, body).await {
                Ok(_) => see_other("/notes"),
                Err(e) => failure(&ctx, &database_error(e)),
            };
        }
        Err(reason) => reason,
    };
    // Nothing is written: the answer is a 400, so the layer rolls the transaction back.
    let list: Vec<Note> = match notes::list(&mut db).await {
        Ok(list) => list,
        Err(e) => return failure(&ctx, &database_error(e)),
    };
    let view = NotesView {
        draft,
        error: Some(reason.message()),
        ..NotesView::new(&list)
    };
    (StatusCode::BAD_REQUEST, views::notes(&ctx, &view)).into_response()
}

/// `/notes` without a database: what to install (`200` for a look, `503` for a post).
pub(crate) async fn unavailable(
    State(app): State<Shared>,
    MaybeVerified(claims): MaybeVerified,
    method: Method,
) -> Response {
    let ctx = Ctx::new(&app, claims.as_ref().and_then(|c| c.email.as_deref()));
    let status = if method == Method::POST {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        views::notes_unavailable(&ctx, &app.notes_unavailable),
    )
        .into_response()
}

/// An error page with the status and the safe message of `error` (database errors are
/// logged, not shown).
fn failure(ctx: &Ctx<'_>, error: &ApiError) -> Response {
    (
        error.status(),
        views::error_page(ctx, "Notes are unavailable", error.message()),
    )
        .into_response()
}
