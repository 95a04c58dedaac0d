"""The gateway: protocol-free policy (JWT auth, authorization, tenant isolation, quotas, rates)."""
