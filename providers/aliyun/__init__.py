"""Alibaba Cloud: request signing (V3 ACS3-HMAC-SHA256 and RPC 1.0 HMAC-SHA1), an async RPC-style
client base, and Phone Number Privacy Protection (Dypls 2017-05-25) bindings.

Runtime dependencies are the standard library and httpx only: no Alibaba SDK at run time.
"""
