"""Payment gateways: one interface (base), the embedded sandbox, and production adapters."""

from billing_core.adapters.gateways.base import (
    ChargeResult,
    GatewayError,
    GatewayTimeout,
    PaymentGateway,
)
from billing_core.adapters.gateways.sandbox import SandboxGateway

__all__ = ["ChargeResult", "GatewayError", "GatewayTimeout", "PaymentGateway", "SandboxGateway"]
