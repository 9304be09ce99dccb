//! The linking target of an OAuth flow (GoTrue's `flow_state.linking_target_id`), kept
//! beside `flow_state` so that table's rows stay as they were.

use rusqlite::{Connection, OptionalExtension as _, params};

/// Records that the flow `flow_state_id` links a new identity to `user_id`.
pub(crate) fn put(c: &Connection, flow_state_id: &str, user_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "INSERT OR REPLACE INTO flow_state_links (flow_state_id, user_id) VALUES (?1, ?2)",
        params![flow_state_id, user_id],
    )?;
    Ok(())
}

/// The linking target of a flow, if it has one.
pub(crate) fn get(c: &Connection, flow_state_id: &str) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT user_id FROM flow_state_links WHERE flow_state_id = ?1",
        [flow_state_id],
        |r| r.get(0),
    )
    .optional()
}

/// Forgets the linking target of a flow.
pub(crate) fn delete(c: &Connection, flow_state_id: &str) -> rusqlite::Result<()> {
    c.execute(
        "DELETE FROM flow_state_links WHERE flow_state_id = ?1",
        [flow_state_id],
    )?;
    Ok(())
}
