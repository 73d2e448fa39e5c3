"""Huawei Cloud PrivateNumber (隐私保护通话): X-AKSK auth (`auth`), the AXB/AX client and the
`BindingProvider` adapter (`privatenumber`), and its registry descriptor (`vendor`).

Nothing is imported here, so reading the vendor registry loads no client code."""
