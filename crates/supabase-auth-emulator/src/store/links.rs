//! The linking target of an OAuth flow (GoTrue's `flow_state.linking_target_id`), kept
//! beside `flow_state` so that table's rows stay as they were.

use crate::store::{Db, DbResult, OptionalExt as _, params};

/// Records that the flow `flow_state_id` links a new identity to `user_id`.
pub(crate) fn put(c: &Db<'_>, flow_state_id: &str, user_id: &str) -> DbResult<()> {
    c.execute(
        "INSERT INTO flow_state_links (flow_state_id, user_id) VALUES (?1, ?2) \
         ON CONFLICT (flow_state_id) DO UPDATE SET user_id = excluded.user_id",
        params![flow_state_id, user_id],
    )?;
    Ok(())
}

/// The linking target of a flow, if it has one.
pub(crate) fn get(c: &Db<'_>, flow_state_id: &str) -> DbResult<Option<String>> {
    c.query_row(
        "SELECT user_id FROM flow_state_links WHERE flow_state_id = ?1",
        params![flow_state_id],
        |r| r.get(0),
    )
    .optional()
}

/// Forgets the linking target of a flow.
pub(crate) fn delete(c: &Db<'_>, flow_state_id: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM flow_state_links WHERE flow_state_id = ?1",
        params![flow_state_id],
    )?;
    Ok(())
}
