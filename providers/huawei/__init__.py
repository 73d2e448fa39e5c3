"""Huawei Cloud PrivateNumber (隐私保护通话): X-AKSK auth (`auth`), the AXB/AX client and the
`BindingProvider` adapter (`privatenumber`)."""

from providers.huawei.auth import AkskSigner, aksk_headers, password_digest
from providers.huawei.privatenumber import (
    AxbBinding,
    AxBinding,
    HuaweiBindings,
    HuaweiPrivateNumberClient,
)

__all__ = [
    "AkskSigner",
    "AxBinding",
    "AxbBinding",
    "HuaweiBindings",
    "HuaweiPrivateNumberClient",
    "aksk_headers",
    "password_digest",
]
