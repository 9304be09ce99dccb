//! The notes page, and what it says without a database.

use axum::response::Html;
use maud::html;

use super::{Ctx, alert, layout};
use crate::notes::{MAX_BODY_CHARS, Note};

/// What the notes page shows.
pub(crate) struct NotesView<'a> {
    pub(crate) notes: &'a [Note],
    /// The text to put back in the form (after a refusal).
    pub(crate) draft: &'a str,
    pub(crate) error: Option<&'a str>,
}

impl<'a> NotesView<'a> {
    pub(crate) fn new(notes: &'a [Note]) -> Self {
        Self {
            notes,
            draft: "",
            error: None,
        }
    }
}

pub(crate) fn notes(ctx: &Ctx<'_>, v: &NotesView<'_>) -> Html<String> {
    layout(
        ctx,
        "Notes",
        html! {
            h1 { "Notes" }
            p {
                "Your notes, from a PostgreSQL table under row-level security. The server reads them in a "
                "transaction that runs as you (the " code { "authenticated" } " role, your claims in "
                code { "request.jwt.claims" } "), with no " code { "where user_id = …" } ": the table's policies "
                "let only your rows through. Signed out, the " code { "anon" } " role gets nothing."
            }
            section.card.narrow {
                (alert(v.error))
                form.stack method="post" action="/notes" {
                    label {
                        "New note"
                        textarea name="body" rows="3" maxlength=(MAX_BODY_CHARS) required { (v.draft) }
                    }
                    button type="submit" { "Add note" }
                }
            }
            section.narrow {
                @if v.notes.is_empty() {
                    p.status #no-notes { "No notes yet." }
                } @else {
                    ul.notes #notes {
                        @for note in v.notes {
                            li.card.note data-id=(note.id) { (note.body) }
                        }
                    }
                }
            }
            p.hint {
                "The same rows as JSON: " code { "GET /api/notes" } " and " code { "POST /api/notes" }
                " with " code { "Authorization: Bearer <access token>" } "."
            }
        },
    )
}

pub(crate) fn notes_unavailable(ctx: &Ctx<'_>, message: &str) -> Html<String> {
    layout(
        ctx,
        "Notes",
        html! {
            h1 { "Notes" }
            p.error role="alert" #notes-unavailable { (message) }
            p { "Every other page works without it. " a href="/" { "Home" } }
        },
    )
}
