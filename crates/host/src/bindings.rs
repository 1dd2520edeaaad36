//! Host bindings for the Spin and `wasi:keyvalue` interfaces, generated from
//! the vendored WIT in `wit/deps`.

wasmtime::component::bindgen!({
    path: [
        "../../wit/deps/spin@2.0.0",
        "../../wit/deps/keyvalue-2024-10-17",
        "wit/host.wit",
    ],
    world: "qmarket:host/host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::key_value::host::StoreHandle,
        "wasi:keyvalue/store.bucket": crate::key_value::host::StoreHandle,
        "wasi:keyvalue/atomics.cas": crate::key_value::host::CasHandle,
    },
});
