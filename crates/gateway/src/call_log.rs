//! The record of each forwarded call, written after the consumer has its
//! answer: one reservation in the subscription's index of the day and one
//! `set_many` of the indexed record and the record under its correlation id.

use qmarket_core::{Error, Result};
use qmarket_model::CallRecord;
use qmarket_store::{Index, KeyValue};

/// Records `call`: listed in its subscription's calls of its day, and found
/// by its correlation id.
pub fn record_call(kv: &dyn KeyValue, call: &CallRecord) -> Result<()> {
    let index = Index::new(CallRecord::day_index(
        &call.subscription_id,
        call.started_at.utc_date(),
    ));
    let seq = index.reserve(kv)?;
    let bytes = serde_json::to_vec(call)
        .map_err(|e| Error::Internal(format!("cannot encode a call record: {e}")))?;
    kv.set_many(&[
        (index.slot_key(seq), bytes.clone()),
        (
            CallRecord::key(&call.subscription_id, &call.correlation_id),
            bytes,
        ),
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use qmarket_core::Timestamp;
    use qmarket_store::{MemoryStore, Recording};

    fn call(correlation_id: &str) -> CallRecord {
        CallRecord {
            correlation_id: correlation_id.into(),
            subscription_id: "sub_1".into(),
            method: "POST".into(),
            path: "/run".into(),
            status: 200,
            duration_ms: 12,
            request_bytes: 10,
            response_bytes: 20,
            complete: true,
            started_at: Timestamp::from_millis(1_800_000_000_000),
        }
    }

    #[test]
    fn a_call_is_listed_on_its_day_and_found_by_its_correlation_id_in_two_writes() {
        let store = Recording::new(MemoryStore::new());
        record_call(&store, &call("c1")).unwrap();
        record_call(&store, &call("c2")).unwrap();
        assert_eq!(store.writes().len(), 4, "{:?}", store.writes());
        let index = Index::new(CallRecord::day_index("sub_1", 20270115));
        let page = index.page(&store, None, 10).unwrap();
        let listed: Vec<CallRecord> = page
            .entries
            .iter()
            .map(|(_, text)| serde_json::from_str(text).unwrap())
            .collect();
        assert_eq!(listed, vec![call("c2"), call("c1")]);
        let found = store.get(&CallRecord::key("sub_1", "c1")).unwrap().unwrap();
        assert_eq!(
            serde_json::from_slice::<CallRecord>(&found).unwrap(),
            call("c1")
        );
    }
}
