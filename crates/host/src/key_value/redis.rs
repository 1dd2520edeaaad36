//! The Redis backend, on one multiplexed, auto-reconnecting connection.
//!
//! Keys are stored as they are (like Spin, labels are not prefixed), counters
//! use `INCRBY` (decimal strings), and compare-and-swap is one Lua script so
//! the comparison and the write happen atomically on the server. Every Redis
//! failure reaches the guest as a key-value error, never as a trap.

use super::{KvError, Store};
use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long connecting to Redis may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may take.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Sets KEYS[1] to ARGV[3] if its value is ARGV[2] (ARGV[1] = "1") or if it is
/// absent (ARGV[1] = "0"); returns 1 when it did.
const CAS_SCRIPT: &str = r#"
local current = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '1' then matches = (current == ARGV[2]) else matches = (current == false) end
if matches then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0
"#;

/// A Redis server used as a key-value store.
pub struct RedisBackend {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    cas: redis::Script,
}

fn redis_error(e: redis::RedisError) -> KvError {
    KvError::Other(format!("redis: {e}"))
}

impl RedisBackend {
    /// Prepares a client for `url`; the connection is made on first use, so a
    /// Redis that is down shows up as errors to the guest, not a failed start.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: OnceCell::new(),
            cas: redis::Script::new(CAS_SCRIPT),
        })
    }

    async fn conn(&self) -> Result<ConnectionManager, KvError> {
        self.connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(CONNECT_TIMEOUT)
                    .set_response_timeout(RESPONSE_TIMEOUT)
                    // No retries inside a reconnect: the client's backoff
                    // sleeps at least 1 s before its first retry, which held
                    // every request of an outage for 1-2 s and kept a Redis
                    // that is back unused for as long. Without it a request
                    // fails at once (503) and the next one connects afresh.
                    .set_number_of_retries(0);
                ConnectionManager::new_with_config(self.client.clone(), config).await
            })
            .await
            .cloned()
            .map_err(redis_error)
    }
}

#[async_trait]
impl Store for RedisBackend {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.conn().await?.get(key).await.map_err(redis_error)
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), KvError> {
        self.conn()
            .await?
            .set(key, value)
            .await
            .map_err(redis_error)
    }

    async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.conn().await?.del(key).await.map_err(redis_error)
    }

    async fn exists(&self, key: &str) -> Result<bool, KvError> {
        self.conn().await?.exists(key).await.map_err(redis_error)
    }

    async fn get_keys(&self) -> Result<Vec<String>, KvError> {
        let mut keys: Vec<String> = self.conn().await?.keys("*").await.map_err(redis_error)?;
        keys.sort();
        Ok(keys)
    }

    async fn get_many(&self, keys: Vec<String>) -> Result<Vec<(String, Option<Vec<u8>>)>, KvError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn().await?)
            .await
            .map_err(redis_error)?;
        Ok(keys.into_iter().zip(values).collect())
    }

    async fn set_many(&self, entries: Vec<(String, Vec<u8>)>) -> Result<(), KvError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.conn()
            .await?
            .mset::<_, _, ()>(&entries)
            .await
            .map_err(redis_error)
    }

    async fn delete_many(&self, keys: Vec<String>) -> Result<(), KvError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.conn().await?.del(keys).await.map_err(redis_error)
    }

    async fn increment(&self, key: &str, delta: i64) -> Result<i64, KvError> {
        self.conn()
            .await?
            .incr(key, delta)
            .await
            .map_err(redis_error)
    }

    async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        new: &[u8],
    ) -> Result<bool, KvError> {
        let swapped: i64 = self
            .cas
            .key(key)
            .arg(if expected.is_some() { "1" } else { "0" })
            .arg(expected.unwrap_or_default())
            .arg(new)
            .invoke_async(&mut self.conn().await?)
            .await
            .map_err(redis_error)?;
        Ok(swapped == 1)
    }
}
