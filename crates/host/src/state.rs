//! The data of one request's `Store`.

use crate::durability::OutputGate;
use crate::key_value::KeyValueAccess;
use crate::outbound::OutboundHooks;
use crate::request_stats::RequestStats;
use crate::variables::ComponentVariables;
use std::sync::Arc;
use wasmtime::component::ResourceTable;
use wasmtime::StoreLimits;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Everything a guest can reach while it handles one request.
pub(crate) struct RequestState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) outbound: OutboundHooks,
    pub(crate) key_value: KeyValueAccess,
    /// What must be durable before anything of the request leaves.
    pub(crate) gate: Arc<OutputGate>,
    pub(crate) variables: Arc<ComponentVariables>,
    /// What the request's store operations and outbound calls cost.
    pub(crate) stats: Arc<RequestStats>,
    /// The instance's memory limit, applied through `Store::limiter`.
    pub(crate) limits: StoreLimits,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
